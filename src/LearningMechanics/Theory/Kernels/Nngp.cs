using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Theory.Kernels;

/// <summary>
/// NNGP kernels of a fully connected network (Lee et al. 2018; Roberts &amp; Yaida 2022, eq. 4.118, §4.5, at leading order):
/// K¹ = σ_b² + σ_w²·x·x′/d, K^{ℓ+1} = σ_b² + σ_w²·E[φ(u)φ(v)]. Computed by <see cref="NeuralKernels"/>.
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

    /// <summary>
    /// Kernels of the preactivations of layers 1…Depth+1 (index 0 = K¹ of the first hidden layer; the last entry
    /// is the output kernel K^{L+1}).
    /// </summary>
    public static Matrix[] Layers(MlpSpec spec, Matrix x)
    {
        if (x.Cols != spec.Validated().InputDim)
            throw new BadInputException($"Inputs have {x.Cols} features but the architecture expects {spec.InputDim}.");
        return NeuralKernels.PerLayer(spec.ToNetworkSpec(), x).Select(p => p.Nngp).ToArray();
    }

    /// <summary>The output (readout) kernel K^{L+1} of the network described by <paramref name="spec"/>.</summary>
    public static Matrix Kernel(MlpSpec spec, Matrix x) => Layers(spec, x)[^1];
}
