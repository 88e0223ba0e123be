using BenchmarkDotNet.Attributes;
using LearningMechanics.Architecture;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Bench;

/// <summary>
/// The ensemble inner loop of gp-limit and finite-width-vertex: one random network (depth 3 or 32, width N, 4 inputs per
/// GEMM call) initialised and run forward; 1/time is networks per second per core.
/// Reference: drawing its N(0,1) parameters alone, so the ratio shows what the forward pass adds.
/// </summary>
public class EnsembleBenchmarks
{
    [Params(128, 256, 512)] public int N;
    [Params(3, 32)] public int Depth;
    private Mlp net = null!;
    private Mlp.Workspace ws = null!;
    private Matrix x = null!;
    private Rng rng = null!;

    [GlobalSetup]
    public void Setup()
    {
        net = new Mlp(new MlpSpec(16, N, Depth, new Relu(), 2, 0));
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
