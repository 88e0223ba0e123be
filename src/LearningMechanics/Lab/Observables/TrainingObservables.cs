namespace LearningMechanics.Lab.Observables;

/// <summary>
/// The observables <c>lmech train --observe</c> can record: one class each, registered here once. The order of this list is
/// the order of the help text, of the allowed names in error messages and of the observables' own plots in a report.
/// </summary>
public static class TrainingObservables
{
    private static readonly Func<ITrainingObservable>[] Registered =
    [
        () => new AccuracyObservable(),
        () => new TestObservable(),
        () => new NtkObservable(),
        () => new NtkTopObservable(),
        () => new SharpnessObservable(),
        () => new HessianTraceObservable(),
        () => new HessianDensityObservable(),
        () => new WeightSpectraObservable(),
        () => new CkaObservable(),
        () => new FeatureAnsatzObservable(),
        () => new NeuralCollapseObservable(),
        () => new ConservationObservable(),
    ];

    public static readonly string[] Names = [.. Registered.Select(create => create().Name)];

    /// <summary>Comma-separated names, case-insensitive, each once; an unknown name is bad input naming the allowed ones.</summary>
    public static string[] Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.ToLowerInvariant()).ToArray();
        foreach (var i in items)
            if (!Names.Contains(i)) throw new BadInputException($"Unknown observable '{i}'. Allowed: {string.Join(", ", Names)}.");
        return [.. items.Distinct()];
    }

    /// <summary>A fresh instance (observables keep per-run state) of the named observable.</summary>
    public static ITrainingObservable Create(string name)
    {
        int i = Array.IndexOf(Names, name);
        if (i < 0) throw new BadInputException($"Unknown observable '{name}'. Allowed: {string.Join(", ", Names)}.");
        return Registered[i]();
    }

    /// <summary>The position of an observable in the registry (its plots appear in this order).</summary>
    public static int Order(ITrainingObservable observable) => Array.IndexOf(Names, observable.Name);
}
