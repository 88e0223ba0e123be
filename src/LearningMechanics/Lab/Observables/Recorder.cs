using System.Diagnostics;
using System.Numerics;
using LearningMechanics.Data;
using LearningMechanics.Networks;

namespace LearningMechanics.Lab.Observables;

/// <summary>
/// Records a training run's observables: at each observation step it copies the parameters into a float64 network
/// (observables are float64) and lets every observable add its values; afterwards it writes the table and the plots.
/// </summary>
internal sealed class Recorder<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Network<T> net;
    private readonly Network<double> mirror;
    private readonly TrainingJob job;
    private readonly IReadOnlyList<ITrainingObservable> observables;
    private readonly Dataset probe;
    private readonly ProbeNtk probeNtk;
    private readonly ObservableTable table = new();
    private readonly Stopwatch clock = new();

    /// <summary>Time spent recording, in seconds.</summary>
    public double Seconds => clock.Elapsed.TotalSeconds;

    public Recorder(Network<T> net, TrainingJob job, IReadOnlyList<ITrainingObservable> observables)
    {
        this.net = net;
        this.job = job;
        this.observables = observables;
        mirror = typeof(T) == typeof(double)
            ? (Network<double>)(object)net
            : new Network<double>(job.Spec, job.Train.InputDim, job.ZeroReadout);
        // Kernel, Hessian and representation observables use at most 256 training points (the first ones).
        probe = job.Train.Take(256);
        probeNtk = new ProbeNtk(mirror, probe);
    }

    public void Record(int step)
    {
        clock.Start();
        if (!ReferenceEquals(mirror, net))
            for (int i = 0; i < net.Parameters.Length; i++) mirror.Parameters[i] = double.CreateTruncating(net.Parameters[i]);
        table.Add(ObservableTable.StepColumn, step);
        var at = new Observation(mirror, job, probe, step, table, probeNtk);
        foreach (var o in observables) o.Record(at);
        clock.Stop();
    }

    /// <summary>The <c>observables</c> table, a line plot per column, then the observables' own plots in registry order.</summary>
    public void AddTo(ExperimentOutput output)
    {
        if (table.Rows == 0) return;
        table.AddTo(output);
        foreach (var o in observables.OrderBy(TrainingObservables.Order)) output.Plots.AddRange(o.Plots());
    }
}
