using LearningMechanics.Architecture;
using LearningMechanics.Data;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Lab;

/// <summary>
/// One run of a learning-rate grid (the unit of <c>mup-transfer</c> and <c>depth-mup</c>): cross-entropy from a zero readout
/// (μP's recommended start), the network from stream 1 of the run's generator and the batch order from stream 2, so every
/// learning rate of a seed sees the same initialisation and batches (common random numbers). The outcome is the full
/// training set's loss after the last step, null when the run diverged (a loss above 10× the first).
/// </summary>
public sealed record LearningRateRun(double? FinalLoss, double InitialLoss, bool Diverged)
{
    public static LearningRateRun Train(NetworkSpec spec, Dataset data, OptimizerSettings optimizer, int steps, int batch, Rng rng)
    {
        var net = new Network<double>(spec, data.InputDim, zeroReadout: true);
        net.Initialize(rng.Split(1));
        var options = new TrainingOptions(new CrossEntropyLoss(), optimizer, steps, batch, Seed: rng.Split(2).NextUInt64(),
            DivergenceFactor: 10);
        var result = new Trainer<double>(net, data, options).Run();
        bool diverged = result.Status == TrainingStatus.Diverged;
        return new LearningRateRun(diverged ? null : result.FinalLoss, result.Losses.Count > 0 ? result.Losses[0] : double.NaN, diverged);
    }
}
