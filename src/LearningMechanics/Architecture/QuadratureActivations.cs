using System.Numerics.Tensors;

namespace LearningMechanics.Architecture;

/// <summary>Hyperbolic tangent (K* = 0 universality class, Roberts &amp; Yaida 2022, §5.3); kernels by quadrature.</summary>
public sealed class Tanh : Activation
{
    public override string Name => "tanh";
    public override double Apply(double z) => Math.Tanh(z);
    public override double Derivative(double z) { double t = Math.Tanh(z); return 1 - t * t; }
    public override double SecondDerivative(double z) { double t = Math.Tanh(z); return -2 * t * (1 - t * t); }
    public override void Apply(ReadOnlySpan<double> z, Span<double> result) => TensorPrimitives.Tanh(z, result);
}

/// <summary>Logistic sigmoid 1/(1 + e^{−z}); kernels by quadrature.</summary>
public sealed class Sigmoid : Activation
{
    public override string Name => "sigmoid";
    public override double Apply(double z) => 1 / (1 + Math.Exp(-z));
    public override double Derivative(double z) { double s = Apply(z); return s * (1 - s); }
    public override double SecondDerivative(double z) { double s = Apply(z); return s * (1 - s) * (1 - 2 * s); }
}

/// <summary>softplus log(1 + e^z), computed without overflow; kernels by quadrature.</summary>
public sealed class Softplus : Activation
{
    public override string Name => "softplus";
    public override double Apply(double z) => z > 30 ? z : Math.Log(1 + Math.Exp(z));
    public override double Derivative(double z) => 1 / (1 + Math.Exp(-z));
    public override double SecondDerivative(double z) { double s = Derivative(z); return s * (1 - s); }
}

/// <summary>SiLU / swish z·sigmoid(z); kernels by quadrature.</summary>
public sealed class Silu : Activation
{
    public override string Name => "silu";
    public override double Apply(double z) => z / (1 + Math.Exp(-z));
    public override double Derivative(double z) { double s = 1 / (1 + Math.Exp(-z)); return s * (1 + z * (1 - s)); }
    public override double SecondDerivative(double z) { double s = 1 / (1 + Math.Exp(-z)); return s * (1 - s) * (2 + z * (1 - 2 * s)); }
}

/// <summary>ELU (α = 1): z for z &gt; 0, e^z − 1 otherwise; C¹ only (φ″ jumps at 0, φ′ has a kink there), so its
/// kernels by kink-aware quadrature.</summary>
public sealed class Elu : Activation
{
    public override string Name => "elu";
    public override bool IsSmooth => false;
    public override double Apply(double z) => z > 0 ? z : Math.Exp(z) - 1;
    public override double Derivative(double z) => z > 0 ? 1 : Math.Exp(z);
    public override double SecondDerivative(double z) => z > 0 ? 0 : Math.Exp(z);
}

/// <summary>A user-supplied φ (and φ′, needed for the NTK); kernels by quadrature.</summary>
internal sealed class CustomActivation(string name, Func<double, double> phi, Func<double, double>? derivative, bool smooth) : Activation
{
    public override string Name => name;
    public override bool IsSmooth => smooth;
    public override bool IsDifferentiable => derivative is not null;
    public override double Apply(double z) => phi(z);
    public override double Derivative(double z)
    {
        RequireDifferentiable();
        return derivative!(z);
    }
}
