using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Training;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The simple gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish et al. 2018): G the mean gradient of the loss
/// over a data set, Σ the covariance of its per-example gradients g_i, both taken over the set itself (the population SGD
/// samples from), tr Σ = (1/N)Σ_i |g_i − G|². It is the batch size at which a batch's gradient noise, tr(Σ)/B, equals the
/// signal |G|²: McCandlish et al.'s estimate of the critical batch size. Buffers are allocated once.
/// </summary>
public sealed class GradientNoiseScale
{
    private readonly int count;
    private readonly PerExampleGradient perExample;
    private readonly double[] g;
    private readonly double[] sum;

    public GradientNoiseScale(Network<double> net, Dataset data, Loss loss)
    {
        if (data.Count < 2) throw new BadInputException($"The gradient noise scale needs ≥ 2 examples, got {data.Count}.");
        count = data.Count;
        perExample = new PerExampleGradient(net, data, loss);
        g = new double[net.ParameterCount];
        sum = new double[net.ParameterCount];
    }

    /// <summary>(B_simple, tr Σ, |G|²) at the network's current parameters.</summary>
    public (double BSimple, double TraceSigma, double GradNorm2) Measure()
    {
        int n = count;
        Array.Clear(sum);
        double squares = 0;
        for (int i = 0; i < n; i++)
        {
            perExample.Into(i, g);
            for (int k = 0; k < g.Length; k++) { sum[k] += g[k]; squares += g[k] * g[k]; }
        }
        double norm2 = 0;
        foreach (double s in sum) norm2 += s * s;
        norm2 /= (double)n * n;
        // (1/N)Σ|g_i − G|² = (1/N)Σ|g_i|² − |G|².
        double trace = squares / n - norm2;
        return (trace / norm2, trace, norm2);
    }
}
