using System.Numerics;
using System.Numerics.Tensors;

namespace LearningMechanics.Architecture;

/// <summary>
/// Elementwise φ, φ′ and φ″ over float64/float32 buffers for the finite networks: vectorised for ReLU, linear and tanh,
/// through the activation's scalar functions (in float64) for the others.
/// </summary>
internal static class Pointwise<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>a = φ(z).</summary>
    public static void Apply(Activation phi, ReadOnlySpan<T> z, Span<T> a)
    {
        switch (phi)
        {
            case Relu: TensorPrimitives.Max(z, T.Zero, a); break;
            case Linear: z.CopyTo(a); break;
            case Tanh: TensorPrimitives.Tanh(z, a); break;
            default:
                for (int i = 0; i < z.Length; i++) a[i] = T.CreateTruncating(phi.Apply(double.CreateTruncating(z[i])));
                break;
        }
    }

    /// <summary>o = g ⊙ φ′(z), with a = φ(z) already computed (tanh′ = 1 − a²).</summary>
    public static void MultiplyDerivative(Activation phi, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> o)
    {
        switch (phi)
        {
            case Relu: PositiveMask(z, g, o); break;
            case Linear: g.CopyTo(o); break;
            case Tanh:
                for (int i = 0; i < z.Length; i++) o[i] = g[i] * (T.One - a[i] * a[i]);
                break;
            default:
                for (int i = 0; i < z.Length; i++) o[i] = g[i] * T.CreateTruncating(phi.Derivative(double.CreateTruncating(z[i])));
                break;
        }
    }

    /// <summary>o = g ⊙ φ′(z) + h ⊙ φ″(z) (the R-operator of the backward pass through φ).</summary>
    public static void MultiplyDerivatives(Activation phi, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> g, ReadOnlySpan<T> h,
        Span<T> o)
    {
        switch (phi)
        {
            case Relu: PositiveMask(z, g, o); break;
            case Linear: g.CopyTo(o); break;
            case Tanh:
                for (int i = 0; i < z.Length; i++)
                {
                    T d = T.One - a[i] * a[i];
                    o[i] = g[i] * d - T.CreateTruncating(2) * a[i] * d * h[i];
                }
                break;
            default:
                for (int i = 0; i < z.Length; i++)
                {
                    double zi = double.CreateTruncating(z[i]);
                    o[i] = g[i] * T.CreateTruncating(phi.Derivative(zi)) + h[i] * T.CreateTruncating(phi.SecondDerivative(zi));
                }
                break;
        }
    }

    /// <summary>o = g where z &gt; 0, else 0 (ReLU′, with ReLU′(0) = 0).</summary>
    private static void PositiveMask(ReadOnlySpan<T> z, ReadOnlySpan<T> g, Span<T> o)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<T>.Count;
            for (; i <= z.Length - w; i += w)
            {
                var zv = new Vector<T>(z[i..]);
                Vector.ConditionalSelect(Vector.GreaterThan(zv, Vector<T>.Zero), new Vector<T>(g[i..]), Vector<T>.Zero).CopyTo(o[i..]);
            }
        }
        for (; i < z.Length; i++) o[i] = z[i] > T.Zero ? g[i] : T.Zero;
    }
}
