using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using LearningMechanics.Numerics;

namespace LearningMechanics.Architecture;

/// <summary>
/// A fully connected layer of <see cref="Width"/> units: z = m_W·W·h + m_b·b, with the multipliers m and the stored
/// parameters' initial scales taken from the parameterisation's table (<see cref="ParameterRule"/>); in NTK
/// parameterisation z = (σ_w/√fan_in)·W·h + σ_b·b with W, b ~ N(0, 1) (Roberts &amp; Yaida 2022, eq. 2.19).
/// σ_w², σ_b² default to the network's values when null.
/// <para>Kernel step (Lee et al. 2018; Jacot et al. 2018; <see cref="ParameterRule.DenseKernel"/>): K′ = σ_w²K + σ_b², and
/// Θ′ = σ_w²Θ + K′ in NTK parameterisation (weights and biases trained), Θ′ = σ_w²Θ + fan_in·K + 1 in standard
/// parameterisation (∂z/∂W = h carries no 1/√fan_in, so Θ grows with the width).</para>
/// </summary>
public sealed record Dense(int Width, double? Sw2 = null, double? Sb2 = null) : Layer
{
    public override string ToText()
    {
        var args = new List<string> { Width.ToString(CultureInfo.InvariantCulture) };
        if (Sw2 is { } w) args.Add(FormattableString.Invariant($"sw2={w}"));
        if (Sb2 is { } b) args.Add(FormattableString.Invariant($"sb2={b}"));
        return $"dense({string.Join(",", args)})";
    }

    /// <summary>Parses <c>dense(width[,sw2=X][,sb2=Y])</c>.</summary>
    /// <summary>The widest layer accepted (a 10⁶ × 10⁶ weight would be 8 TB; <c>Network</c> also bounds the total).</summary>
    public const int MaxWidth = 1_000_000;

    internal static Dense Parse(LayerText text)
    {
        var parts = text.Arguments().Select(p => p.Trim()).ToList();
        if (parts.Count == 0 || parts[0].Length == 0) throw new BadInputException($"Layer '{text.Item}' needs a width, e.g. dense(512).");
        if (!int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int width) || width < 1 || width > MaxWidth)
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                $"Layer '{text.Item}': width '{parts[0]}' must be an integer in 1…{MaxWidth:N0}."));
        double? sw2 = null;
        double? sb2 = null;
        foreach (var p in parts.Skip(1))
        {
            var kv = p.Split('=', 2);
            double v = kv.Length == 2 && double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
                && double.IsFinite(d) ? d : throw new BadInputException($"Layer '{text.Item}': '{p}' must be sw2=NUMBER or sb2=NUMBER.");
            switch (kv[0].Trim())
            {
                case "sw2" when v > 0: sw2 = v; break;
                case "sb2" when v >= 0: sb2 = v; break;
                default: throw new BadInputException($"Layer '{text.Item}': '{p}' is not allowed (sw2 > 0, sb2 ≥ 0).");
            }
        }
        return new Dense(width, sw2, sb2);
    }

    internal override void AddFiniteOps<T>(FiniteBuilder<T> b)
    {
        b.DenseLayers.Add((this, b.Width, b.TopLevel));
        b.Add(new Op<T>(b.Width, Width), Width);
    }

    internal override void AddKernelSteps(KernelBuilder b)
    {
        var rule = ParameterRule.DenseKernel(b.Spec.Param, b.Width, Sw2 ?? b.Spec.Sw2, Sb2 ?? b.Spec.Sb2);
        b.Add(new Step(rule));
        if (b.Nesting == 0) b.DenseOutputs.Add(b.Steps.Count - 1);
        b.Width = Width;
        b.Gaussian = true;
    }

    /// <summary>z = m_W·h·Wᵀ + m_b·b on a batch; <see cref="Bind"/> places its tensors in the parameter vector.</summary>
    internal sealed class Op<T>(int fanIn, int fanOut) : FiniteOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private int wOff;
        private int bOff;
        private T mw;
        private T mb;

        public void Bind(int weightOffset, double weightMultiplier, int biasOffset, double biasMultiplier)
        {
            wOff = weightOffset;
            bOff = biasOffset;
            mw = T.CreateTruncating(weightMultiplier);
            mb = T.CreateTruncating(biasMultiplier);
        }

        private void AddBias(Span<T> z, ReadOnlySpan<T> b, int batch)
        {
            if (mb == T.One) for (int r = 0; r < batch; r++) b.CopyTo(z.Slice(r * fanOut, fanOut));
            else for (int r = 0; r < batch; r++) TensorPrimitives.Multiply(b, mb, z.Slice(r * fanOut, fanOut));
        }

        /// <summary>gb = m_b·Σ_rows g, as the GEMM 1ᵀ·G (one BLAS call instead of a loop over rows).</summary>
        private void BiasGradient(ReadOnlySpan<T> g, Span<T> gb, LayerBuffers<T> ws) =>
            Blas.Gemm(Transpose.No, Transpose.No, 1, fanOut, ws.Batch, mb, ws.Ones, ws.Batch, g, fanOut, T.Zero, gb, fanOut);

        private ReadOnlySpan<T> W(ReadOnlySpan<T> p) => p.Slice(wOff, fanIn * fanOut);

        public override void Forward(LayerBuffers<T> ws, int k)
        {
            var p = ws.Parameters.AsSpan();
            AddBias(ws.A[k + 1], p.Slice(bOff, fanOut), ws.Batch);
            Blas.Gemm(Transpose.No, Transpose.Yes, ws.Batch, fanOut, fanIn, mw, ws.A[k], fanIn, W(p), fanIn, T.One, ws.A[k + 1], fanOut);
        }

        public override void Backward(LayerBuffers<T> ws, int k, Span<T> grad, bool needInput)
        {
            int batch = ws.Batch;
            if (!grad.IsEmpty)
            {
                Blas.Gemm(Transpose.Yes, Transpose.No, fanOut, fanIn, batch, mw, ws.G[k + 1], fanOut, ws.A[k], fanIn, T.Zero,
                    grad.Slice(wOff, fanIn * fanOut), fanIn);
                BiasGradient(ws.G[k + 1], grad.Slice(bOff, fanOut), ws);
            }
            if (needInput)
                Blas.Gemm(Transpose.No, Transpose.No, batch, fanIn, fanOut, mw, ws.G[k + 1], fanOut, W(ws.Parameters), fanIn, T.Zero,
                    ws.G[k], fanIn);
        }

        public override void RForward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v)
        {
            int batch = ws.Batch;
            AddBias(ws.RA![k + 1], v.Slice(bOff, fanOut), batch);
            Blas.Gemm(Transpose.No, Transpose.Yes, batch, fanOut, fanIn, mw, ws.RA[k], fanIn, W(ws.Parameters), fanIn, T.One,
                ws.RA[k + 1], fanOut);
            Blas.Gemm(Transpose.No, Transpose.Yes, batch, fanOut, fanIn, mw, ws.A[k], fanIn, W(v), fanIn, T.One, ws.RA[k + 1], fanOut);
        }

        public override void RBackward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput)
        {
            int batch = ws.Batch;
            var hw = hv.Slice(wOff, fanIn * fanOut);
            Blas.Gemm(Transpose.Yes, Transpose.No, fanOut, fanIn, batch, mw, ws.RG![k + 1], fanOut, ws.A[k], fanIn, T.Zero, hw, fanIn);
            Blas.Gemm(Transpose.Yes, Transpose.No, fanOut, fanIn, batch, mw, ws.G[k + 1], fanOut, ws.RA![k], fanIn, T.One, hw, fanIn);
            BiasGradient(ws.RG[k + 1], hv.Slice(bOff, fanOut), ws);
            if (!needInput) return;
            Blas.Gemm(Transpose.No, Transpose.No, batch, fanIn, fanOut, mw, ws.RG[k + 1], fanOut, W(ws.Parameters), fanIn, T.Zero,
                ws.RG[k], fanIn);
            Blas.Gemm(Transpose.No, Transpose.No, batch, fanIn, fanOut, mw, ws.G[k + 1], fanOut, W(v), fanIn, T.One, ws.RG[k], fanIn);
        }
    }

    /// <summary>K′ = σ_w²K + σ_b²; Θ′ = σ_w²Θ + (tangent of the layer's own parameters), see <see
    /// cref="DenseKernelRule"/>.</summary>
    internal sealed class Step(DenseKernelRule rule) : KernelStep
    {
        public DenseKernelRule Rule { get; } = rule;

        private void Apply(ref double k, ref double t)
        {
            double kPrev = k;
            k = Rule.Sw2 * k + Rule.Sb2;
            t = Rule.TangentIsOutputKernel ? Rule.Sw2 * t + k : Rule.Sw2 * t + Rule.WeightTangent * kPrev + Rule.BiasTangent;
        }

        public override void Pair(ref double k, ref double t, double v1, double v2, double m1, double m2, Span<double> stack, ref int sp) =>
            Apply(ref k, ref t);

        /// <summary>Four entries at a time with <see cref="Apply"/>'s operations in its order (bit-identical), then the rest.</summary>
        public override void Row(double v1, double m1, ReadOnlySpan<double> v2, ReadOnlySpan<double> m2, Span<double> k, Span<double> t,
            double[][] stack, ref int sp)
        {
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var sw2 = Vector256.Create(Rule.Sw2);
                var sb2 = Vector256.Create(Rule.Sb2);
                var weight = Vector256.Create(Rule.WeightTangent);
                var bias = Vector256.Create(Rule.BiasTangent);
                for (; j + 4 <= k.Length; j += 4)
                {
                    var kPrev = Vector256.Create(k.Slice(j, 4));
                    var tj = Vector256.Create(t.Slice(j, 4));
                    var kNext = sw2 * kPrev + sb2;
                    kNext.CopyTo(k.Slice(j, 4));
                    (Rule.TangentIsOutputKernel ? sw2 * tj + kNext : sw2 * tj + weight * kPrev + bias).CopyTo(t.Slice(j, 4));
                }
            }
            for (; j < k.Length; j++) Apply(ref k[j], ref t[j]);
        }

        public override double Mean(double mean, double variance, Stack<double> entryMeans) => 0;
    }
}
