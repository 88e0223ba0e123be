using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Lab.Observables;

/// <summary><c>sharpness</c>: the top Hessian eigenvalue of the loss on the probe set (20 Lanczos steps). One
/// <see cref="Hessian"/> (its copy of the probe set and its workspaces) per training run: it reads the network's current
/// parameters at every record.</summary>
public sealed class SharpnessObservable : ITrainingObservable
{
    /// <summary>Random stream (with the step as second part) of the Lanczos start vector.</summary>
    private const ulong Stream = 7;

    private (Network<double> Net, Dataset Probe, Hessian Hessian)? cached;

    public string Name => "sharpness";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        if (cached is not { } c || !ReferenceEquals(c.Net, at.Net) || !ReferenceEquals(c.Probe, at.Probe))
            cached = c = (at.Net, at.Probe, new Hessian(at.Net, at.Probe, at.Job.Loss));
        at.Add("sharpness", c.Hessian.Sharpness(20, new Rng(at.Job.Seed).Split(Stream, (ulong)at.Step)));
    }
}
