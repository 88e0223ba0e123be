using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.Kernels;

/// <summary>
/// The NNGP kernel of a fully connected network at infinite width (seed 002 §2.2; seed 004 §4.4, eq. 4.118 at
/// leading order): K¹(x, x′) = σ_b² + σ_w²·x·x′/d, and K^{ℓ+1}(x, x′) = σ_b² + σ_w²·E[φ(u)φ(v)] with
/// (u, v) ~ N(0, [[K^ℓ(x,x), K^ℓ(x,x′)], [K^ℓ(x,x′), K^ℓ(x′,x′)]]).
/// </summary>
public static class Nngp
{
    /// <summary>First-layer kernel K¹ = σ_b² + σ_w²·X·Xᵀ/d for inputs as rows of X.</summary>
    public static Matrix InputKernel(Matrix x, double sw2, double sb2)
    {
        var k = new Matrix(x.Rows, x.Rows);
        Blas.Syrk(x.Rows, x.Cols, sw2 / x.Cols, x.Data, x.Cols, 0.0, k.Data, x.Rows);
        for (int i = 0; i < k.Data.Length; i++) k.Data[i] += sb2;
        return k;
    }

    /// <summary>One step of the recursion: the kernel of the next layer's preactivations.</summary>
    public static Matrix NextLayer(Matrix k, Activation act, double sw2, double sb2)
    {
        int n = k.Rows;
        var next = new Matrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double v = sb2 + sw2 * act.PairExpectation(k[i, i], k[i, j], k[j, j]);
                if (!double.IsFinite(v)) throw new ArithmeticException($"NNGP recursion produced {v} at entry ({i}, {j}).");
                next[i, j] = next[j, i] = v;
            }
        return next;
    }

    /// <summary>
    /// Kernels of the preactivations of layers 1…Depth+1 (index 0 = K¹ of the first hidden layer; the last entry
    /// is the output kernel K^{L+1}).
    /// </summary>
    public static Matrix[] Layers(MlpSpec spec, Matrix x)
    {
        spec.Validated();
        if (x.Cols != spec.InputDim) throw new BadInputException($"Inputs have {x.Cols} features but the architecture expects {spec.InputDim}.");
        var ks = new Matrix[spec.Depth + 1];
        ks[0] = InputKernel(x, spec.Sw2, spec.Sb2);
        for (int l = 1; l <= spec.Depth; l++) ks[l] = NextLayer(ks[l - 1], spec.Activation, spec.Sw2, spec.Sb2);
        return ks;
    }

    /// <summary>The output (readout) kernel K^{L+1} of the network described by <paramref name="spec"/>.</summary>
    public static Matrix Kernel(MlpSpec spec, Matrix x) => Layers(spec, x)[^1];
}
