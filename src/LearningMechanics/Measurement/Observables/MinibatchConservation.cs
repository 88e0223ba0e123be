using LearningMechanics.Data;
using LearningMechanics.Networks;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// The expected one-step change of the conserved per-neuron balances (<see cref="Conservation.StepChangeOverEta2"/>) under
/// SGD with batches of size B drawn uniformly without replacement from N examples, for the mean squared error: since the
/// change is a quadratic form Q of the gradient, E[Q(g_B)] = Q(g) + (N − B)/(B(N − 1))·(1/N)·Σ_i Q(g_i − g) with g_i the
/// per-example gradients and g their mean (Kunin et al. 2021 for the noise-driven drift). Buffers are allocated once.
/// </summary>
public sealed class MinibatchConservation
{
    private readonly Network<double> net;
    private readonly Dataset data;
    private readonly double noiseFactor;
    private readonly Network<double>.Workspace ws;
    private readonly double[][] perExample;
    private readonly double[] mean;
    private readonly double[] centred;
    private readonly double[] dOut;

    public MinibatchConservation(Network<double> net, Dataset data, int batch)
    {
        if (batch < 1 || batch > data.Count) throw new BadInputException($"Batch {batch} must lie in 1…{data.Count}.");
        this.net = net;
        this.data = data;
        noiseFactor = data.Count == 1 ? 0 : (double)(data.Count - batch) / (batch * (data.Count - 1.0));
        ws = net.CreateWorkspace(1);
        perExample = [.. Enumerable.Range(0, data.Count).Select(_ => new double[net.ParameterCount])];
        mean = new double[net.ParameterCount];
        centred = new double[net.ParameterCount];
        dOut = new double[net.OutputDim];
    }

    /// <summary>
    /// At the current parameters: Q(g) of the full gradient and the noise part (N − B)/(B(N − 1))·(1/N)·Σ_i Q(g_i − g),
    /// flattened over the junctions; the gradients are those of the mean over outputs of (f − y)², as <c>MseLoss</c>.
    /// </summary>
    public (double[] Full, double[] Noise) Expected()
    {
        int n = data.Count;
        Array.Clear(mean);
        for (int i = 0; i < n; i++)
        {
            var f = net.Forward(data.X.Row(i), ws);
            for (int o = 0; o < dOut.Length; o++) dOut[o] = 2 * (f[o] - data.Y[i, o]) / dOut.Length;
            Array.Clear(perExample[i]);
            net.Backward(ws, dOut, perExample[i]);
            for (int k = 0; k < mean.Length; k++) mean[k] += perExample[i][k] / n;
        }
        var full = Flatten(Conservation.StepChangeOverEta2(net, mean));
        var noise = new double[full.Length];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < mean.Length; k++) centred[k] = perExample[i][k] - mean[k];
            var q = Flatten(Conservation.StepChangeOverEta2(net, centred));
            for (int j = 0; j < q.Length; j++) noise[j] += noiseFactor * q[j] / n;
        }
        return (full, noise);
    }

    private static double[] Flatten(List<double[]> q) => [.. q.SelectMany(j => j)];
}
