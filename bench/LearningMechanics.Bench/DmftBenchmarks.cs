using BenchmarkDotNet.Attributes;
using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Experiments;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.MeanField;
using LearningMechanics.Training;

namespace LearningMechanics.Bench;

/// <summary>
/// The two-layer DMFT solver (<see cref="TwoLayerDmft"/>) for S neurons, P points and T steps against its reference: GD on a
/// finite mean-field network of width S on the same data for the same steps (the lab's trainer), the computation the
/// solver's Monte Carlo average replaces. Input dimension D = 10, tanh, γ₀ = 1, T = 50.
/// </summary>
public class DmftBenchmarks
{
    [Params(16, 64)] public int P;
    [Params(32768)] public int S;
    private const int Steps = 50;
    private Dataset data = null!;
    private TwoLayerProblem problem = null!;

    [GlobalSetup]
    public void Setup()
    {
        data = DmftExperiment.SingleIndexTask(P, 10, new Rng(1));
        problem = new TwoLayerProblem(data.X, data.Y, new Tanh(), 1, 0.5, Steps);
    }

    [Benchmark(Baseline = true)]
    public double NetworkOfWidthS()
    {
        var spec = NetworkSpec.Parse($"dense({S})-tanh-dense(1)", Parameterization.MeanField);
        var net = new Network<double>(spec, data.InputDim);
        net.Initialize(new Rng(2));
        var options = new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, 0.5), Steps);
        return new Trainer<double>(net, data, options).Run().FinalLoss ?? double.NaN;
    }

    [Benchmark]
    public double Dmft() => TwoLayerDmft.Solve(problem, S, 2, Steps, new Rng(3)).Loss[^1];
}
