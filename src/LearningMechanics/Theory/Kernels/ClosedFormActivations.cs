using System.Numerics.Tensors;
using MathNet.Numerics;

namespace LearningMechanics.Theory.Kernels;

/// <summary>ReLU, φ(z) = max(0, z): arc-cosine kernels of degree 1 and 0 (Cho &amp; Saul 2009; claims.md §2.3).</summary>
public sealed class Relu : Activation
{
    public override string Name => "relu";
    public override bool HasClosedForm => true;
    public override bool IsSmooth => false;
    public override bool IsScaleInvariant => true;
    public override double Apply(double z) => z > 0 ? z : 0;
    public override double Derivative(double z) => z > 0 ? 1 : 0;
    public override void Apply(ReadOnlySpan<double> z, Span<double> result) => TensorPrimitives.Max(z, 0.0, result);
    public override double PairExpectation(double k11, double k12, double k22) => ArcCosine.Degree1(k11, k12, k22);
    public override double DerivativePairExpectation(double k11, double k12, double k22) => ArcCosine.Degree0(k11, k12, k22);
    public override (double Value, double Derivative) PairAndDerivativeExpectation(double k11, double k12, double k22) => ArcCosine.Both(k11, k12, k22);

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
    public override double PairExpectation(double k11, double k12, double k22) =>
        2 * (ArcCosine.Degree1(k11, k12, k22) + ArcCosine.Degree1(k11, -k12, k22));
    public override double DerivativePairExpectation(double k11, double k12, double k22) => ArcCosine.SignSign(k11, k12, k22);
}

/// <summary>Error function: Williams (1997) E[erf(u)erf(v)] = (2/π)·arcsin(2k12/√((1+2k11)(1+2k22))) (claims.md §2.3);
/// with φ′ = (2/√π)e^{−z²}, E[φ′φ′] = (4/π)/√((1+2k11)(1+2k22) − 4k12²).</summary>
public sealed class Erf : Activation
{
    public override string Name => "erf";
    public override bool HasClosedForm => true;
    public override double Apply(double z) => SpecialFunctions.Erf(z);
    public override double Derivative(double z) => 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z);
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
    public override void Apply(ReadOnlySpan<double> z, Span<double> result) => z.CopyTo(result);
    public override double PairExpectation(double k11, double k12, double k22) => k12;
    public override double DerivativePairExpectation(double k11, double k12, double k22) => 1;
    public override double Moment(int p, double k) => Monomial.GaussianMoment(p) * Math.Pow(k, p / 2.0);
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
/// Monomial φ(z) = z^p. By Isserlis/Mehler, E[u^p v^p] = Σ_{k ≡ p (mod 2)} (p!)²/(k!·((p−k)/2)!²·2^{p−k})·k12^k·(k11k22)^{(p−k)/2},
/// and E[φ′φ′] = p²·E[u^{p−1}v^{p−1}].
/// </summary>
public sealed class Monomial(int power) : Activation
{
    public int Power { get; } = power;
    public override string Name => $"monomial({Power})";
    public override bool HasClosedForm => true;
    public override bool IsScaleInvariant => Power == 1;
    public override double Apply(double z) => Math.Pow(z, Power);
    public override double Derivative(double z) => Power * Math.Pow(z, Power - 1);
    public override double PairExpectation(double k11, double k12, double k22) => Mixed(Power, k11, k12, k22);
    public override double DerivativePairExpectation(double k11, double k12, double k22) =>
        Power * Power * Mixed(Power - 1, k11, k12, k22);
    public override double Moment(int p, double k) => GaussianMoment(p * Power) * Math.Pow(k, p * Power / 2.0);

    /// <summary>E[u^p v^p] for the correlated Gaussian pair.</summary>
    public static double Mixed(int p, double k11, double k12, double k22)
    {
        double sum = 0;
        for (int k = p % 2; k <= p; k += 2)
        {
            int m = (p - k) / 2;
            double coef = Math.Exp(2 * SpecialFunctions.FactorialLn(p) - SpecialFunctions.FactorialLn(k) - 2 * SpecialFunctions.FactorialLn(m)) / Math.Pow(2, p - k);
            sum += coef * Math.Pow(k12, k) * Math.Pow(k11 * k22, m);
        }
        return sum;
    }

    /// <summary>E[z^p] for z ~ N(0, 1): (p − 1)!! for even p, 0 for odd.</summary>
    public static double GaussianMoment(int p)
    {
        if (p % 2 == 1) return 0;
        double m = 1;
        for (int j = p - 1; j > 1; j -= 2) m *= j;
        return m;
    }
}
