using BenchmarkDotNet.Attributes;
using LearningMechanics.Architecture;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Bench;

/// <summary>
/// The gp-limit inner loop: one random network (depth 3, width N, 4 inputs) initialised and run forward.
/// Reference: drawing its N(0,1) parameters alone, so the ratio shows what the forward pass adds.
/// </summary>
public class EnsembleBenchmarks
{
    [Params(128, 512)] public int N;
    private Mlp net = null!;
    private Mlp.Workspace ws = null!;
    private Matrix x = null!;
    private Rng rng = null!;

    [GlobalSetup]
    public void Setup()
    {
        net = new Mlp(new MlpSpec(16, N, 3, new Relu(), 2, 0));
        ws = net.CreateWorkspace(4);
        x = new Matrix(4, 16);
        new Rng(2).FillGaussian(x.Data);
        rng = new Rng(3);
    }

    [Benchmark(Baseline = true)]
    public void DrawParameters() => net.Initialize(rng);

    [Benchmark]
    public double DrawAndForward()
    {
        net.Initialize(rng);
        return net.Forward(x, ws)[0, 0];
    }
}
