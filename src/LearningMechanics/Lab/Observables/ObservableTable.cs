namespace LearningMechanics.Lab.Observables;

/// <summary>The columns the observables fill, one value per observation step each, in the order they first appear.</summary>
public sealed class ObservableTable
{
    private readonly Dictionary<string, List<double>> columns = [];

    public const string StepColumn = "step";

    public int Rows => columns.TryGetValue(StepColumn, out var steps) ? steps.Count : 0;

    public void Add(string name, double value)
    {
        if (!columns.TryGetValue(name, out var c)) columns[name] = c = [];
        c.Add(value);
    }

    /// <summary>The <c>observables</c> table and one line plot per column against the step (standard errors excepted).</summary>
    public void AddTo(ExperimentOutput output)
    {
        var table = new SeriesTable();
        foreach (var (name, values) in columns) table.Add(name, [.. values]);
        output.Tables["observables"] = table;
        var x = columns[StepColumn].ToArray();
        foreach (var (name, values) in columns)
            if (name != StepColumn && !name.EndsWith("_se", StringComparison.Ordinal))
                output.Plots.Add(new PlotSpec(name.Replace('_', ' '), "step", name,
                    [new SeriesSpec(name, x, [.. values], SeriesKind.Line)]));
    }
}
