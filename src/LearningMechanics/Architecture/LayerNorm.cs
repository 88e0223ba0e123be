using System.Numerics;
using System.Numerics.Tensors;

namespace LearningMechanics.Architecture;

/// <summary>
/// Per-sample normalisation over features, h ↦ (h − mean(h))/√(var(h) + ε), without affine parameters (ε = 1e-5 as
/// PyTorch's). <para>Kernel step: at infinite width the feature mean m = E[h] and variance K(x, x) are deterministic, so
/// K′ = (K − m₁m₂)/√((K₁₁ − m₁²)(K₂₂ − m₂²)) and Θ′ = Θ/√((K₁₁ − m₁²)(K₂₂ − m₂²)) (ε
/// → 0 at infinite width).</para>
/// </summary>
public sealed record LayerNorm : Layer
{
    /// <summary>ε added to the per-sample variance in finite networks.</summary>
    public const double Epsilon = 1e-5;

    public override string ToText() => "layernorm";

    /// <summary>Parses <c>layernorm</c> (no arguments).</summary>
    internal static LayerNorm Parse(LayerText text) =>
        text.Args.Length > 0 ? throw new BadInputException($"Layer '{text.Item}': layernorm takes no arguments.") : new LayerNorm();

    internal override void AddFiniteOps<T>(FiniteBuilder<T> b)
    {
        if (b.Width < 2) throw new BadInputException("LayerNorm needs at least 2 features.");
        b.Add(new Op<T>(), b.Width);
    }

    internal override void AddKernelSteps(KernelBuilder b) => b.Add(new Step());

    /// <summary>y = (x − mean x)/√(var x + ε) per sample (row).</summary>
    internal sealed class Op<T> : FiniteOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public override int RowStatistics => 2;

        private static readonly T Eps = T.CreateTruncating(Epsilon);

        public override void Forward(LayerBuffers<T> ws, int k)
        {
            int n = ws.Dims[k];
            T invN = T.One / T.CreateTruncating(n);
            var stats = ws.RowStats[k];
            for (int r = 0; r < ws.Batch; r++)
            {
                var x = ws.A[k].AsSpan(r * n, n);
                var y = ws.A[k + 1].AsSpan(r * n, n);
                T mean = TensorPrimitives.Sum<T>(x) * invN;
                TensorPrimitives.Subtract(x, mean, y);
                T s = T.Sqrt(TensorPrimitives.SumOfSquares<T>(y) * invN + Eps);
                TensorPrimitives.Multiply(y, T.One / s, y);
                stats[r] = s;
            }
        }

        /// <summary>gx = (gy − mean gy − y·mean(gy ⊙ y))/s.</summary>
        public override void Backward(LayerBuffers<T> ws, int k, Span<T> grad, bool needInput)
        {
            if (!needInput) return;
            int n = ws.Dims[k];
            T invN = T.One / T.CreateTruncating(n);
            for (int r = 0; r < ws.Batch; r++)
            {
                var y = ws.A[k + 1].AsSpan(r * n, n);
                var gy = ws.G[k + 1].AsSpan(r * n, n);
                var gx = ws.G[k].AsSpan(r * n, n);
                T s = ws.RowStats[k][r];
                T m1 = TensorPrimitives.Sum<T>(gy) * invN;
                T m2 = TensorPrimitives.Dot<T>(gy, y) * invN;
                for (int i = 0; i < n; i++) gx[i] = (gy[i] - m1 - y[i] * m2) / s;
            }
        }

        /// <summary>R{s} = mean(y ⊙ Rx); Ry = (Rx − mean Rx)/s − y·R{s}/s.</summary>
        public override void RForward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v)
        {
            int n = ws.Dims[k];
            T invN = T.One / T.CreateTruncating(n);
            for (int r = 0; r < ws.Batch; r++)
            {
                var y = ws.A[k + 1].AsSpan(r * n, n);
                var rx = ws.RA![k].AsSpan(r * n, n);
                var ry = ws.RA[k + 1].AsSpan(r * n, n);
                T s = ws.RowStats[k][r];
                T rs = TensorPrimitives.Dot<T>(y, rx) * invN;
                T mrx = TensorPrimitives.Sum<T>(rx) * invN;
                ws.RowStats[k][ws.Batch + r] = rs;
                for (int i = 0; i < n; i++) ry[i] = (rx[i] - mrx - y[i] * rs) / s;
            }
        }

        /// <summary>R{gx} = −(R{s}/s)·gx + (R{gy} − mean R{gy} − Ry·m₂ − y·R{m₂})/s with m₂ = mean(gy ⊙ y).</summary>
        public override void RBackward(LayerBuffers<T> ws, int k, ReadOnlySpan<T> v, Span<T> hv, bool needInput)
        {
            if (!needInput) return;
            int n = ws.Dims[k];
            T invN = T.One / T.CreateTruncating(n);
            for (int r = 0; r < ws.Batch; r++)
            {
                var y = ws.A[k + 1].AsSpan(r * n, n);
                var ry = ws.RA![k + 1].AsSpan(r * n, n);
                var gy = ws.G[k + 1].AsSpan(r * n, n);
                var rgy = ws.RG![k + 1].AsSpan(r * n, n);
                var gx = ws.G[k].AsSpan(r * n, n);
                var rgx = ws.RG[k].AsSpan(r * n, n);
                T s = ws.RowStats[k][r];
                T rs = ws.RowStats[k][ws.Batch + r];
                T m2 = TensorPrimitives.Dot<T>(gy, y) * invN;
                T rm1 = TensorPrimitives.Sum<T>(rgy) * invN;
                T rm2 = (TensorPrimitives.Dot<T>(rgy, y) + TensorPrimitives.Dot<T>(gy, ry)) * invN;
                for (int i = 0; i < n; i++) rgx[i] = (-rs * gx[i] + rgy[i] - rm1 - ry[i] * m2 - y[i] * rm2) / s;
            }
        }
    }

    /// <summary>The normalisation of the pair's kernels by the centred variances.</summary>
    internal sealed class Step : KernelStep
    {
        private static void Apply(ref double k, ref double t, double v1, double v2, double m1, double m2)
        {
            double norm = Math.Sqrt((v1 - m1 * m1) * (v2 - m2 * m2));
            k = (k - m1 * m2) / norm;
            t /= norm;
        }

        public override void Pair(ref double k, ref double t, double v1, double v2, double m1, double m2, Span<double> stack, ref int sp) =>
            Apply(ref k, ref t, v1, v2, m1, m2);

        public override void Row(double v1, double m1, ReadOnlySpan<double> v2, ReadOnlySpan<double> m2, Span<double> k, Span<double> t,
            double[][] stack, ref int sp)
        {
            for (int j = 0; j < k.Length; j++) Apply(ref k[j], ref t[j], v1, v2[j], m1, m2[j]);
        }

        public override double Mean(double mean, double variance, Stack<double> entryMeans) => 0;

        public override void Check(double variance, double mean)
        {
            if (!(variance - mean * mean > 0))
                throw new BadInputException($"LayerNorm of a representation with zero variance (K = {variance}, mean = {mean}).");
        }
    }
}
