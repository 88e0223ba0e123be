using System.Numerics;
using System.Numerics.Tensors;

namespace LearningMechanics.Architecture;

/// <summary>
/// A pointwise nonlinearity φ (<see cref="Architecture.Activation"/>: its φ, φ′, φ″ and Gaussian expectations).
/// <para>Kernel step (Lee et al. 2018; Jacot et al. 2018; Roberts &amp; Yaida 2022, eqs. 4.118 and 8.x):
/// K′ = E[φ(u)φ(v)], Θ′ = E[φ′(u)φ′(v)]·Θ with (u, v) ~ N(0, [[K₁₁, K₁₂], [K₁₂, K₂₂]]); the feature mean
/// becomes E[φ(u)].</para>
/// </summary>
public sealed record ActivationLayer(Activation Activation) : Layer
{
    public override string ToText() => Activation.Name;

    internal override void AddFiniteOps<T>(FiniteBuilder<T> b)
    {
        if (!Activation.IsDifferentiable) b.NonDifferentiable ??= Activation.Name;
        b.Add(new Op<T>(Activation), b.Width);
    }

    internal override void AddKernelSteps(KernelBuilder b)
    {
        if (!b.Gaussian)
            throw new BadInputException($"Activation '{Activation.Name}' must act on preactivations: put a dense layer before it " +
                "(the infinite-width kernel needs Gaussian inputs to φ).");
        if (b.Ntk && !Activation.IsDifferentiable)
            throw new BadInputException(
                $"Activation '{Activation.Name}' has no derivative, so the NTK is undefined; ask for the NNGP kernel only.");
        b.Add(new Step(Activation, b.Ntk));
        b.Gaussian = false;
    }

    /// <summary>a = φ(z) elementwise.</summary>
    internal sealed class Op<T>(Activation phi) : FiniteOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override void Forward(LayerBuffers<T> ws, int k) => Pointwise<T>.Apply(phi, ws.A[k], ws.A[k + 1]);

        public override void Backward(LayerBuffers<T> ws, int k, Span<T> grad, bool needInput)
        {
            if (needInput) Pointwise<T>.MultiplyDerivative(phi, ws.A[k], ws.A[k + 1], ws.G[k + 1], ws.G[k]);
        }

        public override void RForward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v) =>
            Pointwise<T>.MultiplyDerivative(phi, ws.A[k], ws.A[k + 1], ws.RA![k], ws.RA[k + 1]);

        public override void RBackward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput)
        {
            if (!needInput) return;
            // R{g ⊙ φ′(z)} = R{g} ⊙ φ′(z) + g ⊙ φ″(z) ⊙ R{z}
            var h = ws.Scratch.AsSpan(0, ws.G[k].Length);
            TensorPrimitives.Multiply(ws.G[k + 1], ws.RA![k], h);
            Pointwise<T>.MultiplyDerivatives(phi, ws.A[k], ws.A[k + 1], ws.RG![k + 1], h, ws.RG[k]);
        }
    }

    /// <summary>K′ = E[φ(u)φ(v)], Θ′ = E[φ′(u)φ′(v)]·Θ (the derivative expectation only when the NTK is computed).</summary>
    internal sealed class Step(Activation phi, bool ntk) : KernelStep
    {
        public override void Pair(ref double k, ref double t, double v1, double v2, double m1, double m2, Span<double> stack, ref int sp) =>
            phi.KernelRow(v1, new ReadOnlySpan<double>(in v2), new Span<double>(ref k), ntk ? new Span<double>(ref t) : default);

        public override void Row(double v1, double m1, ReadOnlySpan<double> v2, ReadOnlySpan<double> m2, Span<double> k, Span<double> t,
            double[][] stack, ref int sp) =>
            phi.KernelRow(v1, v2, k, ntk ? t : default);

        public override double Mean(double mean, double variance, Stack<double> entryMeans) => phi.Moment(1, variance);
    }
}
