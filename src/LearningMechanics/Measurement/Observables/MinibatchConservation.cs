using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Training;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The expected one-step change of the conserved per-neuron balances (<see cref="Conservation.StepChangeOverEta2"/>) under
/// SGD with a batch of size B drawn uniformly without replacement from a pool R of examples, for the mean squared error:
/// since the change is a quadratic form Q of the gradient, E[Q(g_B)] = Q(ḡ_R) + (|R| − B)/(B(|R| − 1))·(1/|R|)·Σ_{i∈R}
/// Q(g_i − ḡ_R) with g_i the per-example gradients and ḡ_R their mean over the pool (Kunin et al. 2021 for the
/// noise-driven drift). With i.i.d. batches R is the whole data set; with epochs reshuffled (the trainer's sampling) it is
/// the examples the epoch has not used yet, and only then are the realised deviations from this expectation martingale
/// differences. Buffers are allocated once.
/// </summary>
public sealed class MinibatchConservation
{
    private readonly Network<double> net;
    private readonly Dataset data;
    private readonly int batch;
    private readonly PerExampleGradient gradient;
    private readonly double[][] perExample;
    private readonly double[] mean;
    private readonly double[] centred;

    private static readonly MseLoss Mse = new();

    public MinibatchConservation(Network<double> net, Dataset data, int batch)
    {
        if (batch < 1 || batch > data.Count) throw new BadInputException($"Batch {batch} must lie in 1…{data.Count}.");
        this.net = net;
        this.data = data;
        this.batch = batch;
        gradient = new PerExampleGradient(net, data, Mse);
        perExample = [.. Enumerable.Range(0, data.Count).Select(_ => new double[net.ParameterCount])];
        mean = new double[net.ParameterCount];
        centred = new double[net.ParameterCount];
    }

    /// <summary>
    /// At the current parameters, for batches from <paramref name="pool"/> (default: every example): Q(ḡ_R) of the pool's
    /// mean gradient and the noise part (|R| − B)/(B(|R| − 1))·(1/|R|)·Σ_{i∈R} Q(g_i − ḡ_R), flattened over the junctions;
    /// the gradients are those of the mean over outputs of (f − y)², as <c>MseLoss</c>.
    /// </summary>
    public (double[] Full, double[] Noise) Expected(IReadOnlyList<int>? pool = null)
    {
        pool ??= [.. Enumerable.Range(0, data.Count)];
        int n = pool.Count;
        if (n < batch) throw new ArgumentException($"A pool of {n} examples cannot supply a batch of {batch}.", nameof(pool));
        double noiseFactor = n == 1 ? 0 : (double)(n - batch) / (batch * (n - 1.0));
        Array.Clear(mean);
        foreach (int i in pool)
        {
            gradient.Into(i, perExample[i]);
            for (int k = 0; k < mean.Length; k++) mean[k] += perExample[i][k] / n;
        }
        var full = Conservation.StepChangeOverEta2(net, mean);
        var noise = new double[full.Length];
        foreach (int i in pool)
        {
            for (int k = 0; k < mean.Length; k++) centred[k] = perExample[i][k] - mean[k];
            var q = Conservation.StepChangeOverEta2(net, centred);
            for (int j = 0; j < q.Length; j++) noise[j] += noiseFactor * q[j] / n;
        }
        return (full, noise);
    }
}
