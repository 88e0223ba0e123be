using System.Numerics;
using System.Numerics.Tensors;

namespace LearningMechanics.Training;

/// <summary>
/// A training loss over a batch of outputs f (batch × k) and targets y (batch × k), with these conventions:
/// MSE = mean over samples and outputs of (f − y)², cross-entropy = mean over samples of −Σ_c y_c·log softmax(f)_c
/// (y one-hot or a probability vector). Values are accumulated in float64 whatever the network's precision.
/// </summary>
public abstract class Loss
{
    public abstract string Name { get; }

    /// <summary>The loss, and ∂loss/∂f written into <paramref name="grad"/>.</summary>
    public abstract double Evaluate<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, int batch, Span<T> grad)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The loss only.</summary>
    public abstract double Value<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, int batch) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>(∂²loss/∂f²)·r, the output-space Hessian applied to r (for exact Hessian-vector products).</summary>
    public abstract void HessianTimes<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, ReadOnlySpan<T> r, int batch, Span<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>;

    public static Loss Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "mse" => new MseLoss(),
        "ce" or "xent" or "cross-entropy" or "crossentropy" => new CrossEntropyLoss(),
        _ => throw new BadInputException($"Unknown loss '{text}'. Allowed: mse, ce."),
    };
}

/// <summary>Mean squared error (1/(B·k))·Σ (f − y)²; gradient 2(f − y)/(B·k), Hessian 2/(B·k)·I.</summary>
public sealed class MseLoss : Loss
{
    public override string Name => "mse";

    public override double Evaluate<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, int batch, Span<T> grad)
    {
        CheckShapes(f.Length, y.Length);
        TensorPrimitives.Subtract(f, y, grad);
        double sum = 0;
        foreach (var g in grad) { double d = double.CreateTruncating(g); sum += d * d; }
        TensorPrimitives.Multiply(grad, T.CreateTruncating(2.0 / f.Length), grad);
        return sum / f.Length;
    }

    public override double Value<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, int batch)
    {
        CheckShapes(f.Length, y.Length);
        double sum = 0;
        for (int i = 0; i < f.Length; i++) { double d = double.CreateTruncating(f[i]) - double.CreateTruncating(y[i]); sum += d * d; }
        return sum / f.Length;
    }

    public override void HessianTimes<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, ReadOnlySpan<T> r, int batch, Span<T> result) =>
        TensorPrimitives.Multiply(r, T.CreateTruncating(2.0 / f.Length), result);

    private static void CheckShapes(int f, int y)
    {
        if (f != y) throw new BadInputException($"Targets have {y} values but the network produced {f} outputs for the batch.");
    }
}

/// <summary>
/// Softmax cross-entropy (1/B)·Σ_i [logsumexp(f_i) − y_i·f_i] (Σ_c y_ic = 1); gradient (softmax(f_i) − y_i)/B,
/// Hessian (diag p_i − p_i p_iᵀ)/B per sample. Computed with the max subtracted, so large logits do not overflow.
/// </summary>
public sealed class CrossEntropyLoss : Loss
{
    public override string Name => "ce";

    public override double Evaluate<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, int batch, Span<T> grad)
    {
        int k = f.Length / batch;
        double total = 0;
        for (int i = 0; i < batch; i++)
        {
            var fi = f.Slice(i * k, k);
            var yi = y.Slice(i * k, k);
            var gi = grad.Slice(i * k, k);
            total += Softmax(fi, yi, gi);
            for (int c = 0; c < k; c++) gi[c] = (gi[c] - yi[c]) / T.CreateTruncating(batch);
        }
        return total / batch;
    }

    public override double Value<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, int batch)
    {
        int k = f.Length / batch;
        double total = 0;
        for (int i = 0; i < batch; i++) total += Softmax(f.Slice(i * k, k), y.Slice(i * k, k), Span<T>.Empty);
        return total / batch;
    }

    public override void HessianTimes<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, ReadOnlySpan<T> r, int batch, Span<T> result)
    {
        int k = f.Length / batch;
        for (int i = 0; i < batch; i++)
        {
            var p = result.Slice(i * k, k);
            Softmax(f.Slice(i * k, k), y.Slice(i * k, k), p);
            var ri = r.Slice(i * k, k);
            T pr = TensorPrimitives.Dot(p, ri);
            for (int c = 0; c < k; c++) p[c] = p[c] * (ri[c] - pr) / T.CreateTruncating(batch);
        }
    }

    /// <summary>−Σ_c y_c log softmax(f)_c for one sample; writes softmax(f) into <paramref name="p"/> when it is not empty.</summary>
    private static double Softmax<T>(ReadOnlySpan<T> f, ReadOnlySpan<T> y, Span<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        foreach (var v in f) max = Math.Max(max, double.CreateTruncating(v));
        double sum = 0;
        foreach (var v in f) sum += Math.Exp(double.CreateTruncating(v) - max);
        double logZ = max + Math.Log(sum);
        double loss = 0;
        for (int c = 0; c < f.Length; c++)
        {
            double fc = double.CreateTruncating(f[c]);
            loss += double.CreateTruncating(y[c]) * (logZ - fc);
            if (!p.IsEmpty) p[c] = T.CreateTruncating(Math.Exp(fc - logZ));
        }
        return loss;
    }
}
