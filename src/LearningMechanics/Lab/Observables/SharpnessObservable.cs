using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Observables;

/// <summary><c>sharpness</c>: the top Hessian eigenvalue of the loss on the probe set (20 power iterations).</summary>
public sealed class SharpnessObservable : ITrainingObservable
{
    /// <summary>Random stream (with the step as second part) of the power iteration's start vector.</summary>
    private const ulong Stream = 7;

    public string Name => "sharpness";

    public void Check(TrainingJob job) { }

    public void Record(Observation at) =>
        at.Add("sharpness", new Hessian(at.Net, at.Probe, at.Job.Loss).Sharpness(20, new Rng(at.Job.Seed).Split(Stream, (ulong)at.Step)));
}
