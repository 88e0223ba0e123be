using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Observables;

/// <summary><c>trace</c>: Hutchinson's estimate of the Hessian trace on the probe set (10 probes) with its standard error.</summary>
public sealed class HessianTraceObservable : ITrainingObservable
{
    /// <summary>Random stream (with the step as second part) of the Hutchinson probes.</summary>
    private const ulong Stream = 8;

    public string Name => "trace";

    public void Check(TrainingJob job) { }

    public void Record(Observation at)
    {
        var (t, se) = new Hessian(at.Net, at.Probe, at.Job.Loss).HutchinsonTrace(10, new Rng(at.Job.Seed).Split(Stream, (ulong)at.Step));
        at.Add("hessian_trace", t);
        at.Add("hessian_trace_se", se);
    }
}
