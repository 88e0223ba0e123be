using System.Numerics.Tensors;
using LearningMechanics.Numerics;
using MathNet.Numerics;

namespace LearningMechanics.Theory.Kernels;

/// <summary>
/// A pointwise nonlinearity φ together with the Gaussian expectations the kernel recursions need.
/// Activations with a closed form for E[φ(u)φ(v)] override <see cref="PairExpectation"/>; every other one is
/// integrated by 2-D Gauss–Hermite quadrature (<see cref="GaussHermite.Expect2"/>).
/// </summary>
public abstract class Activation
{
    /// <summary>Quadrature order for activations without a closed form (tensor rule: order² evaluations).</summary>
    public const int DefaultQuadratureOrder = 128;

    public abstract string Name { get; }
    public abstract double Apply(double z);
    /// <summary>φ′(z) (one-sided where φ has a kink: ReLU′(0) = 0).</summary>
    public abstract double Derivative(double z);
    public virtual bool HasClosedForm => false;
    /// <summary>True for φ(λz) = λφ(z), λ > 0 (ReLU, linear): seed 004 §5.2's scale-invariant universality class.</summary>
    public virtual bool IsScaleInvariant => false;

    /// <summary>φ applied elementwise (vectorised where the activation allows).</summary>
    public virtual void Apply(ReadOnlySpan<double> z, Span<double> result)
    {
        for (int i = 0; i < z.Length; i++) result[i] = Apply(z[i]);
    }

    /// <summary>E[φ(u)φ(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]) (seed 002 §2.2; 004 eq. 4.36).</summary>
    public virtual double PairExpectation(double k11, double k12, double k22) => Quadrature(k11, k12, k22, DefaultQuadratureOrder);

    /// <summary>The same expectation by Gauss–Hermite quadrature of the given order, whatever closed form exists.</summary>
    public double Quadrature(double k11, double k12, double k22, int order) => GaussHermite.Expect2(Apply, Apply, k11, k12, k22, order);

    /// <summary>E[φ(z)^p] for z ~ N(0, k): closed forms where overridden, otherwise a 1-D rule of order 200.</summary>
    public virtual double Moment(int p, double k) => GaussHermite.Expect(z => Math.Pow(Apply(z), p), k, 200);

    public override string ToString() => Name;

    /// <summary>The activations known by name, for the command line and configs.</summary>
    public static IReadOnlyList<string> Names { get; } = ["relu", "erf", "tanh", "linear"];

    /// <summary>Looks an activation up by name; unknown names throw with the allowed list.</summary>
    public static Activation Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "relu" => new Relu(),
        "erf" => new Erf(),
        "tanh" => new Tanh(),
        "linear" or "identity" => new Linear(),
        _ => throw new BadInputException($"Unknown activation '{name}'. Allowed: {string.Join(", ", Names)}."),
    };
}

/// <summary>ReLU, φ(z) = max(0, z).</summary>
public sealed class Relu : Activation
{
    public override string Name => "relu";
    public override bool HasClosedForm => true;
    public override double Apply(double z) => z > 0 ? z : 0;
    public override double Derivative(double z) => z > 0 ? 1 : 0;
    public override bool IsScaleInvariant => true;
    public override void Apply(ReadOnlySpan<double> z, Span<double> result) => TensorPrimitives.Max(z, 0.0, result);

    /// <summary>
    /// Arc-cosine kernel of degree 1 (Cho &amp; Saul 2009; claims.md §2.3):
    /// E[relu(u)relu(v)] = √(k11k22)·(sin θ + (π − θ)cos θ)/(2π), θ = arccos(c), c = k12/√(k11k22) clamped to [−1, 1].
    /// θ is taken as atan2(√((1 − c)(1 + c)), c), and near θ = π (opposite inputs), where the two terms cancel,
    /// sin δ − δ cos δ (δ = π − θ) is summed as its series δ³/3 − δ⁵/30 + δ⁷/840 − δ⁹/45360.
    /// </summary>
    public override double PairExpectation(double k11, double k12, double k22)
    {
        double norm = Math.Sqrt(k11 * k22);
        if (norm == 0) return 0;
        double c = Math.Clamp(k12 / norm, -1, 1), s = Math.Sqrt((1 - c) * (1 + c));
        double theta = Math.Atan2(s, c), delta = Math.PI - theta, g;
        if (delta < 0.1)
        {
            double d2 = delta * delta;
            g = delta * d2 * (1.0 / 3 - d2 * (1.0 / 30 - d2 * (1.0 / 840 - d2 / 45360)));
        }
        else g = s + delta * c;
        return norm * g / (2 * Math.PI);
    }

    /// <summary>E[relu(z)^p] = k^{p/2}·E[|z|^p]/2 = k^{p/2}·2^{p/2−1}Γ((p+1)/2)/√π for z ~ N(0, k).</summary>
    public override double Moment(int p, double k) =>
        Math.Pow(k, p / 2.0) * Math.Pow(2, p / 2.0 - 1) * SpecialFunctions.Gamma((p + 1) / 2.0) / Math.Sqrt(Math.PI);
}

/// <summary>Error function φ(z) = erf(z).</summary>
public sealed class Erf : Activation
{
    public override string Name => "erf";
    public override bool HasClosedForm => true;
    public override double Apply(double z) => SpecialFunctions.Erf(z);
    public override double Derivative(double z) => 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z);

    /// <summary>Williams (1997): E[erf(u)erf(v)] = (2/π)·arcsin(2k12/√((1 + 2k11)(1 + 2k22))) (claims.md §2.3).</summary>
    public override double PairExpectation(double k11, double k12, double k22) =>
        2 / Math.PI * Math.Asin(Math.Clamp(2 * k12 / Math.Sqrt((1 + 2 * k11) * (1 + 2 * k22)), -1, 1));
}

/// <summary>Hyperbolic tangent; no closed form, integrated by quadrature.</summary>
public sealed class Tanh : Activation
{
    public override string Name => "tanh";
    public override double Apply(double z) => Math.Tanh(z);
    public override double Derivative(double z) { double t = Math.Tanh(z); return 1 - t * t; }
    public override void Apply(ReadOnlySpan<double> z, Span<double> result) => TensorPrimitives.Tanh(z, result);
}

/// <summary>Identity φ(z) = z (deep linear networks): E[uv] = k12.</summary>
public sealed class Linear : Activation
{
    public override string Name => "linear";
    public override bool HasClosedForm => true;
    public override double Apply(double z) => z;
    public override double Derivative(double z) => 1;
    public override bool IsScaleInvariant => true;
    public override void Apply(ReadOnlySpan<double> z, Span<double> result) => z.CopyTo(result);
    public override double PairExpectation(double k11, double k12, double k22) => k12;
    public override double Moment(int p, double k)
    {
        if (p % 2 == 1) return 0;
        double m = 1;
        for (int j = p - 1; j > 1; j -= 2) m *= j;              // (p − 1)!! for a Gaussian
        return m * Math.Pow(k, p / 2.0);
    }
}
