using System.Numerics;
using System.Numerics.Tensors;
using LearningMechanics.Numerics;
using MathNet.Numerics;

namespace LearningMechanics.Architecture;

/// <summary>ReLU, φ(z) = max(0, z): arc-cosine kernels of degree 1 and 0 (Cho &amp; Saul 2009).</summary>
public sealed class Relu : Activation
{
    public override string Name => "relu";
    public override bool HasClosedForm => true;
    public override bool IsSmooth => false;
    public override bool IsScaleInvariant => true;
    public override double Apply(double z) => z > 0 ? z : 0;
    public override double Derivative(double z) => z > 0 ? 1 : 0;
    public override double SecondDerivative(double z) => 0;
    public override void Apply(ReadOnlySpan<double> z, Span<double> result) => TensorPrimitives.Max(z, 0.0, result);
    public override double PairExpectation(double k11, double k12, double k22) => ArcCosine.Degree1(k11, k12, k22);
    public override double DerivativePairExpectation(double k11, double k12, double k22) => ArcCosine.Degree0(k11, k12, k22);
    public override (double Value, double Derivative) PairAndDerivativeExpectation(double k11, double k12, double k22) =>
        ArcCosine.Both(k11, k12, k22);
    public override double ExpectSquaredPair(double k11, double k12, double k22) => ArcCosine.Degree2(k11, k12, k22);
    public override void KernelRow(double v1, ReadOnlySpan<double> v2, Span<double> k, Span<double> t) =>
        ArcCosine.Row(v1, v2, k, t, 1, 0);

    /// <summary>E[relu(z)^p] = k^{p/2}·2^{p/2−1}Γ((p+1)/2)/√π for z ~ N(0, k).</summary>
    public override double Moment(int p, double k) =>
        Math.Pow(k, p / 2.0) * Math.Pow(2, p / 2.0 - 1) * SpecialFunctions.Gamma((p + 1) / 2.0) / Math.Sqrt(Math.PI);
}

/// <summary>
/// Leaky ReLU φ(z) = max(z, αz) = (1 − α)·relu(z) + α·z. With E[relu(u)·v] = k12/2:
/// E[φφ] = (1 − α)²·A₁ + α·k12 and E[φ′φ′] = α + (1 − α)²·A₀ (A₁, A₀ the arc-cosine kernels).
/// </summary>
public sealed class LeakyRelu(double alpha) : Activation
{
    public double Alpha { get; } = alpha;
    public override string Name => FormattableString.Invariant($"leaky_relu({Alpha})");
    public override bool HasClosedForm => true;
    public override bool IsSmooth => false;
    public override bool IsScaleInvariant => true;
    public override double Apply(double z) => z > 0 ? z : Alpha * z;
    public override double Derivative(double z) => z > 0 ? 1 : Alpha;
    public override double SecondDerivative(double z) => 0;
    public override double PairExpectation(double k11, double k12, double k22) =>
        (1 - Alpha) * (1 - Alpha) * ArcCosine.Degree1(k11, k12, k22) + Alpha * k12;
    public override double DerivativePairExpectation(double k11, double k12, double k22) =>
        Alpha + (1 - Alpha) * (1 - Alpha) * ArcCosine.Degree0(k11, k12, k22);
    public override (double Value, double Derivative) PairAndDerivativeExpectation(double k11, double k12, double k22)
    {
        var (a1, a0) = ArcCosine.Both(k11, k12, k22);
        double s = (1 - Alpha) * (1 - Alpha);
        return (s * a1 + Alpha * k12, Alpha + s * a0);
    }

    public override void KernelRow(double v1, ReadOnlySpan<double> v2, Span<double> k, Span<double> t) =>
        ArcCosine.Row(v1, v2, k, t, (1 - Alpha) * (1 - Alpha), Alpha);

    /// <summary>φ² = α²z² + (1 − α²)relu(z)² and E[u²relu(v)²] = E[u²v²]/2 (the law is even), so
    /// E[φ(u)²φ(v)²] = α²·W + (1 − α²)²·A₂ with W = k11k22 + 2k12² (Wick) and A₂ the degree-2 arc-cosine
    /// kernel.</summary>
    public override double ExpectSquaredPair(double k11, double k12, double k22)
    {
        double a2 = Alpha * Alpha;
        return a2 * Linear.FourthMoment(k11, k12, k22) + (1 - a2) * (1 - a2) * ArcCosine.Degree2(k11, k12, k22);
    }
}

/// <summary>|z| = relu(z) + relu(−z): E[|u||v|] = 2A₁(k12) + 2A₁(−k12); φ′ = sign, E[sign·sign] = (2/π)arcsin c.</summary>
public sealed class Abs : Activation
{
    public override string Name => "abs";
    public override bool HasClosedForm => true;
    public override bool IsSmooth => false;
    public override bool IsScaleInvariant => true;
    public override double Apply(double z) => Math.Abs(z);
    public override double Derivative(double z) => Math.Sign(z);
    public override double SecondDerivative(double z) => 0;
    public override double PairExpectation(double k11, double k12, double k22) =>
        2 * (ArcCosine.Degree1(k11, k12, k22) + ArcCosine.Degree1(k11, -k12, k22));
    public override double DerivativePairExpectation(double k11, double k12, double k22) => ArcCosine.SignSign(k11, k12, k22);
    public override double ExpectSquaredPair(double k11, double k12, double k22) => Linear.FourthMoment(k11, k12, k22);
}

/// <summary>Error function: Williams 1997, E[erf(u)erf(v)] = (2/π)·arcsin(2k12/√((1+2k11)(1+2k22)));
/// with φ′ = (2/√π)e^{−z²}, E[φ′φ′] = (4/π)/√((1+2k11)(1+2k22) − 4k12²).</summary>
public sealed class Erf : Activation
{
    public override string Name => "erf";
    public override bool HasClosedForm => true;
    public override double Apply(double z) => SpecialFunctions.Erf(z);
    public override double Derivative(double z) => 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z);
    public override double SecondDerivative(double z) => -2 * z * Derivative(z);
    public override double PairExpectation(double k11, double k12, double k22) =>
        2 / Math.PI * Math.Asin(Math.Clamp(2 * k12 / Math.Sqrt((1 + 2 * k11) * (1 + 2 * k22)), -1, 1));
    public override double DerivativePairExpectation(double k11, double k12, double k22) =>
        4 / Math.PI / Math.Sqrt(Math.Max((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12 * k12, 0));
}

/// <summary>sin: E[sin u sin v] = e^{−(k11+k22)/2}·sinh(k12); φ′ = cos, E[cos u cos v] = e^{−(k11+k22)/2}·cosh(k12).</summary>
public sealed class Sin : Activation
{
    public override string Name => "sin";
    public override bool HasClosedForm => true;
    public override double Apply(double z) => Math.Sin(z);
    public override double Derivative(double z) => Math.Cos(z);
    public override double SecondDerivative(double z) => -Math.Sin(z);
    public override double PairExpectation(double k11, double k12, double k22) => Math.Exp(-(k11 + k22) / 2) * Math.Sinh(k12);
    public override double DerivativePairExpectation(double k11, double k12, double k22) => Math.Exp(-(k11 + k22) / 2) * Math.Cosh(k12);
}

/// <summary>cos: E[cos u cos v] = e^{−(k11+k22)/2}·cosh(k12); φ′ = −sin, E[sin u sin v] = e^{−(k11+k22)/2}·sinh(k12).</summary>
public sealed class Cos : Activation
{
    public override string Name => "cos";
    public override bool HasClosedForm => true;
    public override double Apply(double z) => Math.Cos(z);
    public override double Derivative(double z) => -Math.Sin(z);
    public override double SecondDerivative(double z) => -Math.Cos(z);
    public override double PairExpectation(double k11, double k12, double k22) => Math.Exp(-(k11 + k22) / 2) * Math.Cosh(k12);
    public override double DerivativePairExpectation(double k11, double k12, double k22) => Math.Exp(-(k11 + k22) / 2) * Math.Sinh(k12);
}

/// <summary>Identity φ(z) = z (deep linear networks): E[uv] = k12, E[φ′φ′] = 1.</summary>
public sealed class Linear : Activation
{
    public override string Name => "linear";
    public override bool HasClosedForm => true;
    public override bool IsScaleInvariant => true;
    public override double Apply(double z) => z;
    public override double Derivative(double z) => 1;
    public override double SecondDerivative(double z) => 0;
    public override void Apply(ReadOnlySpan<double> z, Span<double> result) => z.CopyTo(result);
    public override double PairExpectation(double k11, double k12, double k22) => k12;
    public override double DerivativePairExpectation(double k11, double k12, double k22) => 1;
    public override double Moment(int p, double k) => Polynomial.GaussianMoment(p) * Math.Pow(k, p / 2.0);
    public override double ExpectSquaredPair(double k11, double k12, double k22) => FourthMoment(k11, k12, k22);

    /// <summary>E[u²v²] = k11k22 + 2k12² (Wick's theorem).</summary>
    public static double FourthMoment(double k11, double k12, double k22) => k11 * k22 + 2 * k12 * k12;
}

/// <summary>sign(z): E[sign u sign v] = (2/π)·arcsin c. Not differentiable: NNGP only.</summary>
public sealed class Sign : Activation
{
    public override string Name => "sign";
    public override bool HasClosedForm => true;
    public override bool IsSmooth => false;
    public override bool IsDifferentiable => false;
    public override double Apply(double z) => Math.Sign(z);
    public override double Derivative(double z) { RequireDifferentiable(); return 0; }
    public override double PairExpectation(double k11, double k12, double k22) => ArcCosine.SignSign(k11, k12, k22);
}

/// <summary>Heaviside step 1{z &gt; 0}: E = (π − θ)/(2π), the degree-0 arc-cosine kernel. Not differentiable: NNGP only.</summary>
public sealed class Step : Activation
{
    public override string Name => "step";
    public override bool HasClosedForm => true;
    public override bool IsSmooth => false;
    public override bool IsDifferentiable => false;
    public override double Apply(double z) => z > 0 ? 1 : 0;
    public override double Derivative(double z) { RequireDifferentiable(); return 0; }
    public override double PairExpectation(double k11, double k12, double k22) => ArcCosine.Degree0(k11, k12, k22);
}

/// <summary>
/// Polynomial φ(z) = Σ_p a_p z^p. By Isserlis' theorem
/// E[u^p v^q] = Σ_k C(p,k)C(q,k)·k!·(p−k−1)!!·(q−k−1)!!·k12^k·k11^{(p−k)/2}·k22^{(q−k)/2}
/// over k ≤ min(p, q) with p − k and q − k even, so E[φφ] = Σ a_p a_q E[u^p v^q] and E[φ′φ′] = Σ p q a_p a_q E[u^{p−1}
/// v^{q−1}].
/// </summary>
public class Polynomial : Activation
{
    private readonly double[] a;

    /// <param name="coefficients">a₀, a₁, …: φ(z) = a₀ + a₁z + a₂z² + …</param>
    public Polynomial(IReadOnlyList<double> coefficients)
    {
        if (coefficients.Count is 0 or > 13)
            throw new BadInputException($"A polynomial activation needs 1…13 coefficients, got {coefficients.Count}.");
        a = [.. coefficients];
    }

    public IReadOnlyList<double> Coefficients => a;
    public override string Name =>
        $"poly({string.Join(",", a.Select(c => c.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))})";
    public override bool HasClosedForm => true;
    public override double Apply(double z)
    {
        double s = 0;
        for (int p = a.Length - 1; p >= 0; p--) s = s * z + a[p];
        return s;
    }
    public override double Derivative(double z)
    {
        double s = 0;
        for (int p = a.Length - 1; p >= 1; p--) s = s * z + p * a[p];
        return s;
    }
    public override double SecondDerivative(double z)
    {
        double s = 0;
        for (int p = a.Length - 1; p >= 2; p--) s = s * z + p * (p - 1) * a[p];
        return s;
    }

    public override double PairExpectation(double k11, double k12, double k22)
    {
        double sum = 0;
        for (int p = 0; p < a.Length; p++)
            for (int q = 0; q < a.Length; q++)
                if (a[p] != 0 && a[q] != 0) sum += a[p] * a[q] * Mixed(p, q, k11, k12, k22);
        return sum;
    }

    public override double DerivativePairExpectation(double k11, double k12, double k22)
    {
        double sum = 0;
        for (int p = 1; p < a.Length; p++)
            for (int q = 1; q < a.Length; q++)
                if (a[p] != 0 && a[q] != 0) sum += p * q * a[p] * a[q] * Mixed(p - 1, q - 1, k11, k12, k22);
        return sum;
    }

    public override double Moment(int p, double k) => p == 2 ? PairExpectation(k, k, k) : base.Moment(p, k);

    /// <summary>E[u^p v^q] for the correlated Gaussian pair (Isserlis).</summary>
    public static double Mixed(int p, int q, double k11, double k12, double k22)
    {
        double sum = 0;
        for (int k = 0; k <= Math.Min(p, q); k++)
        {
            if ((p - k) % 2 != 0 || (q - k) % 2 != 0) continue;
            double ln = SpecialFunctions.BinomialLn(p, k) + SpecialFunctions.BinomialLn(q, k) + SpecialFunctions.FactorialLn(k);
            double coef = Math.Exp(ln) * DoubleFactorial(p - k - 1) * DoubleFactorial(q - k - 1);
            sum += coef * Math.Pow(k12, k) * Math.Pow(k11, (p - k) / 2) * Math.Pow(k22, (q - k) / 2);
        }
        return sum;
    }

    /// <summary>n!! with (−1)!! = 0!! = 1.</summary>
    private static double DoubleFactorial(int n) { double r = 1; for (int j = n; j > 1; j -= 2) r *= j; return r; }

    /// <summary>E[z^p] for z ~ N(0, 1): (p − 1)!! for even p, 0 for odd.</summary>
    public static double GaussianMoment(int p) => p % 2 == 1 ? 0 : DoubleFactorial(p - 1);
}

/// <summary>Monomial φ(z) = z^p, the polynomial with one coefficient.</summary>
public sealed class Monomial(int power) : Polynomial([.. Enumerable.Repeat(0.0, power), 1.0])
{
    public int Power { get; } = power;
    public override string Name => $"monomial({Power})";
    public override bool IsScaleInvariant => Power == 1;
    public override double Apply(double z) => Math.Pow(z, Power);
    public override double Moment(int p, double k) => GaussianMoment(p * Power) * Math.Pow(k, p * Power / 2.0);
}

/// <summary>
/// GELU φ(z) = z·Φ(z) (exact, not the tanh approximation). Closed form: with ξ₁, ξ₂ ~ N(0, 1) independent,
/// Φ(u) = P(ξ₁ ≤ u), so E[uΦ(u)vΦ(v)] = E[uv·1{s &gt; 0}1{t &gt; 0}] for s = u − ξ₁, t = v − ξ₂. Regressing (u, v) on
/// (s, t) leaves E[(β_u·S)(β_v·S)1{S &gt; 0}] + r·P(S &gt; 0), where the orthant probability and second moments of the
/// bivariate normal S (variances 1 + k11, 1 + k22, covariance k12, correlation ρ) are P = 1/4 + arcsin ρ/(2π),
/// E[s²1] = (1 + k11)(P + ρ√(1−ρ²)/(2π)), E[st1] = σ_sσ_t(ρP + √(1−ρ²)/(2π)). E[φ′φ′] = ∂E[φφ]/∂k12 by
/// Price's theorem, taken by complex-step differentiation of the closed form (exact to rounding, no subtraction).
/// </summary>
public sealed class Gelu : Activation
{
    public override string Name => "gelu";
    public override bool HasClosedForm => true;
    public override double Apply(double z) => z * AndersonDarling.NormalCdf(z);
    public override double Derivative(double z) => AndersonDarling.NormalCdf(z) + z * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);
    public override double SecondDerivative(double z) => (2 - z * z) * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);
    public override double PairExpectation(double k11, double k12, double k22) => Kernel(k11, k22, new Complex(k12, 0)).Real;

    public override double DerivativePairExpectation(double k11, double k12, double k22)
    {
        const double h = 1e-30;
        return Kernel(k11, k22, new Complex(k12, h)).Imaginary / h;
    }

    private static Complex Kernel(double a, double b, Complex c)
    {
        double s11 = 1 + a;
        double s22 = 1 + b;
        Complex det = s11 * s22 - c * c;
        // β = Σ_SS⁻¹·Cov(S, ·) for u (Cov = (a, c)) and v (Cov = (c, b)); r = Cov(u, v | S).
        Complex bu0 = (s22 * a - c * c) / det;
        Complex bu1 = (s11 * c - c * a) / det;
        Complex bv0 = (s22 * c - c * b) / det;
        Complex bv1 = (s11 * b - c * c) / det;
        Complex r = c - (a * (s22 * c - c * b) + c * (s11 * b - c * c)) / det;
        double ss = Math.Sqrt(s11);
        double st = Math.Sqrt(s22);
        Complex rho = c / (ss * st);
        Complex q = Complex.Sqrt(1 - rho * rho);
        Complex p = 0.25 + Complex.Asin(rho) / (2 * Math.PI);
        Complex mss = s11 * (p + rho * q / (2 * Math.PI));
        Complex mtt = s22 * (p + rho * q / (2 * Math.PI));
        Complex mst = ss * st * (rho * p + q / (2 * Math.PI));
        return bu0 * bv0 * mss + (bu0 * bv1 + bu1 * bv0) * mst + bu1 * bv1 * mtt + r * p;
    }
}
