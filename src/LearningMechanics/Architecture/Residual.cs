using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace LearningMechanics.Architecture;

/// <summary>
/// A residual connection h ↦ γ·h + s·block(h) (He et al. 2016; Roberts &amp; Yaida 2022, App. B, eq. B.3 with ξ = s), with
/// the identity scale γ = 1 unless given. The block must end with a Dense layer, so its output has zero mean and is
/// uncorrelated with h at initialisation.
/// <para>Kernel step: K′ = γ²K + s²·K_block and Θ′ = γ²Θ + s²·Θ_block, K and Θ taken at the block's entry; the feature
/// mean becomes γ times the entry's.</para>
/// </summary>
public sealed record Residual(IReadOnlyList<Layer> Block, double BranchScale, double IdentityScale = 1) : Layer
{
    public override string ToText()
    {
        string block = string.Join("-", Block.Select(l => l.ToText()));
        return IdentityScale == 1
            ? FormattableString.Invariant($"res({block},{BranchScale})")
            : FormattableString.Invariant($"res({block},{BranchScale},{IdentityScale})");
    }

    /// <summary>Parses <c>res(block[,scale[,identity]])</c>, the block in the text form of a layer sequence.</summary>
    internal static Residual Parse(LayerText text)
    {
        var parts = text.Arguments();
        if (parts.Count is < 1 or > 3 || parts[0].Trim().Length == 0)
            throw new BadInputException($"Layer '{text.Item}': expected res(block), res(block, scale) or res(block, scale, identity), " +
                "e.g. res(relu-dense(512),0.5).");
        double scale = 1;
        double identity = 1;
        if (parts.Count >= 2 && !(double.TryParse(parts[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out scale)
            && double.IsFinite(scale)))
            throw new BadInputException($"Layer '{text.Item}': branch scale '{parts[1].Trim()}' is not a number.");
        if (parts.Count == 3 && !(double.TryParse(parts[2].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out identity)
            && double.IsFinite(identity)))
            throw new BadInputException($"Layer '{text.Item}': identity scale '{parts[2].Trim()}' is not a number.");
        var block = text.ParseSequence(parts[0]);
        if (block[^1] is not Dense)
            throw new BadInputException($"Residual block '{parts[0].Trim()}' must end with a dense layer (its output must be " +
                "zero-mean and independent of the skip path at initialisation).");
        return new Residual(block, scale, identity);
    }

    private string BlockText => string.Join("-", Block.Select(l => l.ToText()));

    internal override void AddFiniteOps<T>(FiniteBuilder<T> b)
    {
        int width = b.Width;
        var begin = new SkipOp<T>();
        int beginIndex = b.Ops.Count;
        b.Add(begin, width);
        bool topLevel = b.TopLevel;
        b.TopLevel = false;
        b.AddLayers(Block);
        b.TopLevel = topLevel;
        if (b.Width != width)
            throw new BadInputException($"Residual block '{BlockText}' maps width {width} to {b.Width}; it must keep the width.");
        begin.End = b.Ops.Count;
        begin.Identity = T.CreateTruncating(IdentityScale);
        b.Add(new AddOp<T>(beginIndex, T.CreateTruncating(BranchScale), begin.Identity), width);
    }

    internal override void AddKernelSteps(KernelBuilder b)
    {
        b.Add(new BeginStep());
        int width = b.Width;
        bool gaussian = b.Gaussian;
        b.Nesting++;
        b.AddLayers(Block);
        b.Nesting--;
        if (b.Width != width)
            throw new BadInputException($"Residual block '{BlockText}' maps width {width} to {b.Width}; it must keep the width.");
        // γh + s·(Gaussian independent of h) is Gaussian only when h is.
        b.Width = width;
        b.Gaussian = gaussian;
        b.Add(new EndStep(BranchScale * BranchScale, IdentityScale));
    }

    /// <summary>Start of a residual block: passes h on (the same buffer) and receives the skip path's gradient at the end.</summary>
    internal sealed class SkipOp<T> : FiniteOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>Index of the matching <see cref="AddOp{T}"/>.</summary>
        public int End;
        /// <summary>The identity scale γ of the skip path.</summary>
        public T Identity = T.One;

        public override bool PassesThrough => true;

        public override void Forward(LayerBuffers<T> ws, int k)
        {
        }

        public override void Backward(LayerBuffers<T> ws, int k, Span<T> grad, bool needInput) =>
            TensorPrimitives.MultiplyAdd(ws.G[End + 1], Identity, ws.G[k + 1], ws.G[k]);

        public override void RForward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v)
        {
        }

        public override void RBackward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput) =>
            TensorPrimitives.MultiplyAdd(ws.RG![End + 1], Identity, ws.RG[k + 1], ws.RG[k]);
    }

    /// <summary>End of a residual block: out = γ·h + s·block(h), h the input of the matching <see cref="SkipOp{T}"/>.</summary>
    internal sealed class AddOp<T>(int begin, T scale, T identity) : FiniteOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override void Forward(LayerBuffers<T> ws, int k)
        {
            var skip = ws.A[begin];
            var output = ws.A[k + 1];
            TensorPrimitives.Multiply(skip, identity, output);
            TensorPrimitives.MultiplyAdd(ws.A[k], scale, output, output);
        }

        public override void Backward(LayerBuffers<T> ws, int k, Span<T> grad, bool needInput) =>
            TensorPrimitives.Multiply(ws.G[k + 1], scale, ws.G[k]);

        public override void RForward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v)
        {
            TensorPrimitives.Multiply(ws.RA![begin], identity, ws.RA[k + 1]);
            TensorPrimitives.MultiplyAdd(ws.RA[k], scale, ws.RA[k + 1], ws.RA[k + 1]);
        }

        public override void RBackward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput) =>
            TensorPrimitives.Multiply(ws.RG![k + 1], scale, ws.RG[k]);
    }

    /// <summary>The block's entry: K and Θ go on the stack (the mean on the mean stack).</summary>
    internal sealed class BeginStep : KernelStep
    {
        public override void Pair(ref double k, ref double t, double v1, double v2, double m1, double m2, Span<double> stack, ref int sp)
        {
            stack[sp++] = k;
            stack[sp++] = t;
        }

        public override void Row(double v1, double m1, ReadOnlySpan<double> v2, ReadOnlySpan<double> m2, Span<double> k, Span<double> t,
            double[][] stack, ref int sp)
        {
            k.CopyTo(stack[sp++]);
            t.CopyTo(stack[sp++]);
        }

        public override double Mean(double mean, double variance, Stack<double> entryMeans)
        {
            entryMeans.Push(mean);
            return mean;
        }
    }

    /// <summary>The block's exit: K′ = γ²K_entry + s²K, Θ′ = γ²Θ_entry + s²Θ.</summary>
    internal sealed class EndStep(double scale2, double identity) : KernelStep
    {
        private void Apply(ref double k, ref double t, double k0, double t0)
        {
            double g2 = identity * identity;
            k = g2 * k0 + scale2 * k;
            t = g2 * t0 + scale2 * t;
        }

        public override void Pair(ref double k, ref double t, double v1, double v2, double m1, double m2, Span<double> stack, ref int sp)
        {
            double t0 = stack[--sp];
            double k0 = stack[--sp];
            Apply(ref k, ref t, k0, t0);
        }

        public override void Row(double v1, double m1, ReadOnlySpan<double> v2, ReadOnlySpan<double> m2, Span<double> k, Span<double> t,
            double[][] stack, ref int sp)
        {
            var t0 = stack[--sp];
            var k0 = stack[--sp];
            for (int j = 0; j < k.Length; j++) Apply(ref k[j], ref t[j], k0[j], t0[j]);
        }

        public override double Mean(double mean, double variance, Stack<double> entryMeans) => identity * entryMeans.Pop();
    }
}
