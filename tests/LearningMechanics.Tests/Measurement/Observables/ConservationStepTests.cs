using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Tests.Measurement.Observables;

/// <summary>
/// The broken conservation laws of GD and SGD (Kunin et al. 2021): one GD step changes each neuron's balance by exactly
/// η²·<see cref="Conservation.StepChangeOverEta2"/>, and the minibatch expectation of that change equals the average over
/// every possible batch from the pool, enumerated.
/// </summary>
public class ConservationStepTests
{
    private static Dataset Data(int n) => new(TestData.RandomMatrix(n, 3, 2), TestData.RandomMatrix(n, 2, 3));

    [Theory]
    [InlineData("dense(9)-relu-dense(7)-relu-dense(2)", Parameterization.Ntk)]
    [InlineData("dense(9)-relu-dense(7)-relu-dense(2)", Parameterization.Standard)]
    [InlineData("dense(6)-dense(5)-dense(2)", Parameterization.Ntk)]
    public void OneGradientStepChangesTheBalanceByExactlyEtaSquaredTerms(string arch, Parameterization param)
    {
        var net = new Network<double>(NetworkSpec.Parse(arch, param, 2, 0.1), 3);
        net.Initialize(new Rng(4));
        var data = Data(12);
        const double eta = 0.3;
        var before = Conservation.Measure(net);
        double[] predicted = [];
        new Trainer<double>(net, data, new TrainingOptions(new MseLoss(), new OptimizerSettings(OptimizerKind.Gd, eta), 1))
            .Run(state => predicted = Conservation.StepChangeOverEta2(net, state.Gradient));
        double[] drift = [.. Conservation.Measure(net).Zip(before).SelectMany(p => p.First.PerNeuron.Zip(p.Second.PerNeuron,
            (a, b) => a - b))];
        Assert.Equal(predicted.Length, drift.Length);
        double scale = predicted.Max(Math.Abs) * eta * eta;
        Assert.True(scale > 1e-6, "the step must change the balance measurably");
        for (int i = 0; i < drift.Length; i++) Assert.Equal(eta * eta * predicted[i], drift[i], 1e-12 + 1e-9 * scale);
    }

    /// <summary>Every batch of two from a pool (all six examples, or the four an epoch has left), each batch's exact change
    /// averaged.</summary>
    [Theory]
    [InlineData(new[] { 0, 1, 2, 3, 4, 5 })]
    [InlineData(new[] { 1, 2, 4, 5 })]
    public void MinibatchExpectationIsTheAverageOverEveryBatch(int[] pool)
    {
        var net = new Network<double>(NetworkSpec.Parse("dense(5)-relu-dense(4)-relu-dense(2)", Parameterization.Ntk, 2, 0.1), 3);
        net.Initialize(new Rng(8));
        var data = Data(6);
        var (full, noise) = new MinibatchConservation(net, data, 2).Expected(pool);
        var average = new double[full.Length];
        int batches = 0;
        var ws = net.CreateWorkspace(2);
        var grad = new double[net.ParameterCount];
        var dOut = new double[4];
        for (int a = 0; a < pool.Length; a++)
            for (int b = a + 1; b < pool.Length; b++)
            {
                var batch = data.Subset([pool[a], pool[b]]);
                var f = net.Forward(batch.X.Data, ws);
                new MseLoss().Evaluate<double>(f, batch.Y.Data, 2, dOut);
                Array.Clear(grad);
                net.Backward(ws, dOut, grad);
                var q = Conservation.StepChangeOverEta2(net, grad);
                for (int j = 0; j < q.Length; j++) average[j] += q[j];
                batches++;
            }
        for (int j = 0; j < full.Length; j++) Assert.Equal(average[j] / batches, full[j] + noise[j], 1e-12);
        Assert.True(noise.Max(Math.Abs) > 1e-3 * full.Max(Math.Abs), "the noise part is not negligible here");
    }
}
