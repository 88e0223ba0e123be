using BenchmarkDotNet.Attributes;
using LearningMechanics.Architecture;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Bench;

/// <summary>
/// The ensemble inner loop of gp-limit and finite-width-vertex: one random network (depth 3 or 32, width N, 4 inputs per
/// GEMM call) initialised and run forward; 1/time is networks per second per core.
/// Reference: the same network written directly as arrays and GEMM calls (<see cref="ReferenceMlp"/>), so the ratio shows
/// what the one-description network (layer operations, one parameter vector) costs; drawing the parameters alone is shown
/// for scale.
/// </summary>
public class EnsembleBenchmarks
{
    [Params(128, 256, 512)] public int N;
    [Params(3, 32)] public int Depth;
    private Mlp net = null!;
    private Mlp.Workspace ws = null!;
    private Matrix x = null!;
    private Rng rng = null!;
    private ReferenceMlp reference = null!;

    [GlobalSetup]
    public void Setup()
    {
        net = new Mlp(new MlpSpec(16, N, Depth, new Relu(), 2, 0));
        ws = net.CreateWorkspace(4);
        x = new Matrix(4, 16);
        new Rng(2).FillGaussian(x.Data);
        rng = new Rng(3);
        reference = new ReferenceMlp(net.Spec, 4);
    }

    [Benchmark(Baseline = true)]
    public double ReferenceDrawAndForward()
    {
        reference.Initialize(rng);
        return reference.Forward(x)[0, 0];
    }

    [Benchmark]
    public void DrawParameters() => net.Initialize(rng);

    [Benchmark]
    public double DrawAndForward()
    {
        net.Initialize(rng);
        return net.Forward(x, ws)[0, 0];
    }
    /// <summary>
    /// The same comparison as paired rounds in ABBA order (reference, network, network, reference): each round gives one
    /// ratio of the network's time to the reference's, measured within milliseconds of each other, so a machine whose
    /// speed drifts between rounds cancels out. Reported: the median ratio over the rounds and a 95 % bootstrap interval
    /// of that median (percentile method, 2000 resamples, fixed seed; Efron &amp; Tibshirani 1993, ch. 13), and the best
    /// time of each for scale.
    /// </summary>
    public static void RunInterleaved(int rounds = 60)
    {
        Console.WriteLine($"\nEnsemble draw + forward (4 inputs, ReLU), {rounds} paired ABBA rounds of 20 networks each");
        Console.WriteLine("| width | depth | reference µs (best) | Network µs (best) | median ratio | 95 % interval |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (int depth in new[] { 3, 32 })
            foreach (int n in new[] { 128, 256, 512 })
            {
                var b = new EnsembleBenchmarks { N = n, Depth = depth };
                b.Setup();
                Func<double> network = () => b.DrawAndForward();
                Time(b.ReferenceDrawAndForward);
                Time(network);
                var ratios = new double[rounds];
                double bestReference = double.MaxValue;
                double bestNetwork = double.MaxValue;
                for (int r = 0; r < rounds; r++)
                {
                    double ref1 = Time(b.ReferenceDrawAndForward);
                    double net1 = Time(network);
                    double net2 = Time(network);
                    double ref2 = Time(b.ReferenceDrawAndForward);
                    ratios[r] = (net1 + net2) / (ref1 + ref2);
                    bestReference = Math.Min(bestReference, Math.Min(ref1, ref2));
                    bestNetwork = Math.Min(bestNetwork, Math.Min(net1, net2));
                }
                var (low, high) = Statistics.BootstrapCi(ratios, r => Statistics.Median(r), new Rng(11));
                double median = Statistics.Median(ratios);
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"| {n} | {depth} | {bestReference * 1e6:F0} | {bestNetwork * 1e6:F0} | {median:F3} | {low:F3}–{high:F3} |"));
            }
    }

    /// <summary>Seconds per call, averaged over 20 calls.</summary>
    private static double Time(Func<double> call)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 20; i++) call();
        return sw.Elapsed.TotalSeconds / 20;
    }
}

/// <summary>
/// The prior draws of bayesian-finite-width: 256 networks' output conditional kernels on 5 inputs (depth 3, width N),
/// from the exact layer-by-layer Gaussian chain against the reference, real networks with full weight matrices drawn
/// and run forward (<see cref="LearningMechanics.Measurement.Ensembles.ConditionalKernelEnsemble"/>); both parallel over networks.
/// </summary>
public class ChainBenchmarks
{
    [Params(64, 256, 512)] public int N;
    private MlpSpec spec = null!;
    private Matrix x = null!;

    [GlobalSetup]
    public void Setup()
    {
        spec = new MlpSpec(4, N, 3, new Relu(), 2, 0);
        x = LearningMechanics.Data.Inputs.ToSphere(LearningMechanics.Data.Synthetic.GaussianInputs(5, 4, new Rng(2)));
    }

    [Benchmark(Baseline = true)]
    public double RealNetworks() =>
        LearningMechanics.Measurement.Ensembles.ConditionalKernelEnsemble.Sample([spec], [N], 256, x, new Rng(3), outputOnly: true)[0]
            .Kc[0][0][0][0];

    [Benchmark]
    public double GaussianChain() =>
        LearningMechanics.Measurement.Ensembles.ConditionalGaussianChain.OutputKernels(spec, 256, x, new Rng(3))[0][0];
}
