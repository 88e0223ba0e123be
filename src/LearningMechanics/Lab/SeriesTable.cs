namespace LearningMechanics.Lab;

/// <summary>A column-oriented table of raw results: numeric or text columns of equal length, in insertion order.</summary>
public sealed class SeriesTable
{
    private readonly List<(string Name, Array Values)> columns = [];

    public IReadOnlyList<(string Name, Array Values)> Columns => columns;
    public int RowCount => columns.Count == 0 ? 0 : columns[0].Values.Length;

    public SeriesTable Add(string name, double[] values) => AddColumn(name, values);
    public SeriesTable Add(string name, string[] values) => AddColumn(name, values);

    private SeriesTable AddColumn(string name, Array values)
    {
        if (columns.Count > 0 && values.Length != RowCount)
            throw new ArgumentException($"Column '{name}' has {values.Length} rows, the table has {RowCount}.");
        if (columns.Any(c => c.Name == name)) throw new ArgumentException($"Duplicate column '{name}'.");
        columns.Add((name, values));
        return this;
    }

    /// <summary>Builds a table from records, one row each, with the given column selectors.</summary>
    public static SeriesTable FromRows<T>(IReadOnlyList<T> rows, params (string Name, Func<T, object> Get)[] cols)
    {
        var t = new SeriesTable();
        foreach (var (name, get) in cols)
        {
            var first = rows.Count > 0 ? get(rows[0]) : 0.0;
            if (first is string) t.Add(name, rows.Select(r => (string)get(r)).ToArray());
            else t.Add(name, rows.Select(r => Convert.ToDouble(get(r), System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }
        return t;
    }
}
