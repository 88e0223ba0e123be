namespace LearningMechanics.Lab.Observables;

/// <summary>
/// A quantity <c>lmech train --observe NAME</c> records during training: checked against the job before training starts,
/// computed at every observation step into named columns of the run's <c>observables</c> table (each column is also drawn
/// as a line against the step), and free to add plots of its own at the end. One instance serves one run, so an observable
/// may keep state (its value at initialisation, its last spectrum). A new observable is one class implementing this and one
/// line in <see cref="TrainingObservables"/>.
/// </summary>
public interface ITrainingObservable
{
    /// <summary>The name <c>--observe</c> accepts.</summary>
    string Name { get; }

    /// <summary>Throws <see cref="BadInputException"/> when the job cannot give what this observable needs.</summary>
    void Check(TrainingJob job);

    /// <summary>Computes the observable at one step and adds its values to the step's columns.</summary>
    void Record(Observation at);

    /// <summary>Plots beyond the per-column lines, drawn once training has finished (none by default).</summary>
    IEnumerable<PlotSpec> Plots() => [];
}
