using System.Globalization;
using System.Text.Json;
using LearningMechanics.Lab.Reports;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Numerics;

namespace LearningMechanics.Lab.Sweeps;

/// <summary>
/// Merges a sweep's result files into <c>DIR/results.db</c> (table <c>sweep_results</c>, one row per task hash, so
/// collecting twice adds nothing twice) and writes the sweep report <c>DIR/report.html</c> with <c>sweep.csv</c>: every
/// task's axis values, seed, status and metrics, and one plot per numeric metric over the first axis (mean ± SE over the
/// seeds, one line per value of the second axis).
/// </summary>
public static class SweepCollector
{
    /// <summary>Collects what is done; returns the number of results stored.</summary>
    public static int Collect(string dir)
    {
        var plan = SweepPlan.Read(dir);
        var layout = new SweepLayout(dir);
        var results = plan.Tasks.Select(t => SweepTaskRunner.ReadResult(layout.ResultFile(t.Hash)))
            .Where(r => r is not null).Select(r => r!).ToList();
        using (var db = new ResultsDb(layout.Database))
            foreach (var r in results)
                db.UpsertSweepResult(plan.Name, r.Hash, r.Index, r.Seed, JsonSerializer.Serialize(r.Values), r.Status,
                    JsonSerializer.Serialize(r.Metrics));
        WriteReport(layout, plan, results);
        return results.Count;
    }

    private static void WriteReport(SweepLayout layout, SweepPlan plan, List<SweepResult> results)
    {
        var output = new ExperimentOutput();
        var table = new SeriesTable();
        foreach (var axis in plan.AxisNames) table.Add(axis, results.Select(r => r.Values[axis]).ToArray());
        table.Add("seed", results.Select(r => (double)r.Seed).ToArray());
        table.Add("status", results.Select(r => r.Status).ToArray());
        var metricNames = results.SelectMany(r => r.Metrics.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var numeric = metricNames.Where(m => results.All(r => !r.Metrics.TryGetValue(m, out var v)
            || v.ValueKind is JsonValueKind.Number or JsonValueKind.Null)).ToList();
        foreach (var m in metricNames)
        {
            // A metric named like a column already there (status, seed, an axis) gets the prefix metric_.
            string col = plan.AxisNames.Contains(m) || m is "seed" or "status" ? $"metric_{m}" : m;
            if (numeric.Contains(m)) table.Add(col, results.Select(r => Number(r, m)).ToArray());
            else table.Add(col, results.Select(r => r.Metrics.TryGetValue(m, out var v) ? v.ToString() : "").ToArray());
        }
        output.Tables["sweep"] = table;
        if (plan.AxisNames.Count > 0)
            foreach (var m in numeric) output.Plots.Add(Plot(plan, results, m));
        var config = new Dictionary<string, string>
        {
            ["tasks"] = plan.Tasks.Count.ToString(CultureInfo.InvariantCulture),
            ["collected"] = results.Count.ToString(CultureInfo.InvariantCulture),
            ["axes"] = string.Join(", ", plan.AxisNames),
        };
        var run = new RunRecord($"sweep-{plan.Name}", $"sweep-{plan.Name}", $"Sweep {plan.Name}",
            $"{results.Count} of {plan.Tasks.Count} tasks collected", "lmech sweep", RunRecord.LibraryVersion, 0, RunMode.Quick, config,
            output, DateTime.UtcNow, 0, layout.Dir);
        File.WriteAllText(Path.Combine(layout.Dir, "sweep.csv"), CsvWriter.ToCsv(table));
        SweepLayout.WriteAtomically(Path.Combine(layout.Dir, "report.html"), HtmlReport.Render(run, ["sweep.csv"]));
    }

    private static double Number(SweepResult r, string metric) =>
        r.Metrics.TryGetValue(metric, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    /// <summary>Metric against the first axis, mean ± SE over seeds, one line per value of the second axis.</summary>
    private static PlotSpec Plot(SweepPlan plan, List<SweepResult> results, string metric)
    {
        string x = plan.AxisNames[0];
        string? group = plan.AxisNames.Count > 1 ? plan.AxisNames[1] : null;
        bool numericX = results.All(r => double.TryParse(r.Values[x], NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        var xOrder = results.Select(r => r.Values[x]).Distinct().ToList();
        if (numericX) xOrder = [.. xOrder.OrderBy(v => double.Parse(v, CultureInfo.InvariantCulture))];
        double X(string v) => numericX ? double.Parse(v, CultureInfo.InvariantCulture) : xOrder.IndexOf(v);
        var series = new List<SeriesSpec>();
        foreach (var g in results.GroupBy(r => group is null ? "" : r.Values[group]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var points = g.GroupBy(r => r.Values[x]).OrderBy(p => X(p.Key))
                .Select(p => (X: X(p.Key), Y: p.Select(r => Number(r, metric)).Where(double.IsFinite).ToArray()))
                .Where(p => p.Y.Length > 0).ToList();
            if (points.Count == 0) continue;
            series.Add(new SeriesSpec(group is null ? metric : $"{group} = {g.Key}", [.. points.Select(p => p.X)],
                [.. points.Select(p => Statistics.Mean(p.Y))], SeriesKind.Line,
                [.. points.Select(p => p.Y.Length > 1 ? Statistics.StandardError(p.Y) : 0)]));
        }
        var xs = series.SelectMany(s => s.X).ToArray();
        var ys = series.SelectMany(s => s.Y).ToArray();
        bool logX = numericX && xs.Length > 0 && xs.All(v => v > 0) && xs.Max() / xs.Min() >= 10;
        bool logY = ys.Length > 0 && ys.All(v => v > 0) && ys.Max() / ys.Min() >= 10;
        return new PlotSpec($"{metric} over {x}", x, metric, series, logX, logY,
            numericX ? "Mean over seeds ± SE."
                : $"Mean over seeds ± SE; {x}: {string.Join(", ", xOrder.Select((v, i) => $"{i} = {v}"))}.");
    }
}
