using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The neural feature ansatz (Radhakrishnan et al. 2024): after training, a dense
/// layer's neural feature matrix WᵀW (effective weights) is proportional to the average gradient outer product of the
/// network with respect to that layer's input, AGOP = (1/N) Σ_i Σ_c ∇_h f_c(x_i) ∇_h f_c(x_i)ᵀ. Reported as the
/// Frobenius cosine ⟨WᵀW, AGOP⟩/(‖WᵀW‖‖AGOP‖) and as the Pearson correlation of the entries.
/// </summary>
public static class FeatureAnsatz
{
    public sealed record Result(int Layer, double Cosine, double Pearson, Matrix FeatureMatrix, Matrix Agop);

    /// <param name="layer">dense layer index (0 = the input layer, whose AGOP is the input-space one).</param>
    public static Result Measure(Network<double> net, Matrix x, int layer = 0)
    {
        int k = net.DenseInputIndex(layer);
        var w = net.EffectiveWeight(layer);
        var nfm = Matrix.Multiply(w, w, Transpose.Yes, Transpose.No);
        int dim = w.Cols;
        int n = x.Rows;
        var agop = new Matrix(dim, dim);
        var ws = net.CreateWorkspace(n);
        var dOut = new double[n * net.OutputDim];
        var grad = new double[net.ParameterCount];
        for (int c = 0; c < net.OutputDim; c++)
        {
            net.Forward(x.Data, ws);
            Array.Clear(dOut);
            for (int i = 0; i < n; i++) dOut[i * net.OutputDim + c] = 1;
            net.Backward(ws, dOut, grad, inputGradient: k == 0);
            // Σ_i g_i g_iᵀ = Gᵀ G with G the N × dim per-sample gradients.
            Blas.Gemm(Transpose.Yes, Transpose.No, dim, dim, n, 1.0 / n, ws.Gradients(k), dim, ws.Gradients(k), dim, 1.0, agop.Data, dim);
        }
        return new Result(layer, Cosine(nfm, agop), Pearson(nfm.Data, agop.Data), nfm, agop);
    }

    private static double Cosine(Matrix a, Matrix b)
    {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.Data.Length; i++) { ab += a.Data[i] * b.Data[i]; aa += a.Data[i] * a.Data[i]; bb += b.Data[i] * b.Data[i]; }
        return ab / Math.Sqrt(aa * bb);
    }

    /// <summary>Pearson correlation of two equally long lists of entries.</summary>
    public static double Pearson(double[] a, double[] b) =>
        Statistics.Covariance(a, b) / Math.Sqrt(Statistics.Variance(a) * Statistics.Variance(b));
}
