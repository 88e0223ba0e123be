using LearningMechanics.Data;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Networks;
using LearningMechanics.Numerics;
using LearningMechanics.Training;

namespace LearningMechanics.Lab.Observables;

/// <summary>
/// A training run at one observation step, as the observables see it: a float64 copy of the network, the job, the probe
/// set (the first ≤ 256 training points, for kernel, Hessian and representation observables), the step, and the table
/// the values go to.
/// </summary>
public sealed record Observation(Network<double> Net, TrainingJob Job, Dataset Probe, int Step, ObservableTable Table,
    ProbeNtk Ntk)
{
    private Matrix? theta;

    public void Add(string column, double value) => Table.Add(column, value);

    /// <summary>Θ̂ on <see cref="ProbeNtk.Points"/> at this step, computed on first use.</summary>
    public Matrix ProbeNtk() => theta ??= Ntk.Compute();

    /// <summary>Fraction of the data set whose largest output is at its target's largest entry.</summary>
    public double Accuracy(Dataset d) => Classification.Accuracy(Trainer<double>.Predict(Net, d.X), d.Y);
}
