using System.Text;
using System.Text.Json;

namespace LearningMechanics.Lab.Storage;

/// <summary>
/// Writes and reads <c>result.json</c>: experiment, version, seed, mode, config, claims (prediction, competitor,
/// measurement ± SE, tolerance, resolution, verdict), series, timings. Non-finite numbers are written as null (JSON has no NaN).
/// </summary>
public static class ResultJson
{
    public static string Serialize(RunRecord run)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms,
            new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("experiment", run.ExperimentId);
            w.WriteString("version", run.Version);
            w.WriteString("run_id", run.RunId);
            w.WriteNumber("seed", run.Seed);
            w.WriteString("mode", run.Mode.ToString().ToLowerInvariant());
            w.WriteString("started_utc", run.StartedUtc.ToString("O"));
            w.WriteStartObject("config");
            foreach (var (k, v) in run.Config) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteStartArray("claims");
            foreach (var c in run.Output.Claims)
            {
                w.WriteStartObject();
                w.WriteString("id", c.Id);
                w.WriteString("statement", c.Statement);
                w.WriteString("source", c.Source);
                Number(w, "predicted", c.Predicted);
                Number(w, "measured", c.Measured);
                Number(w, "stderr", c.StdErr);
                Number(w, "tolerance", c.Tolerance);
                Number(w, "competitor", c.Competitor);
                if (c.CompetitorHypothesis is not null) w.WriteString("competitor_hypothesis", c.CompetitorHypothesis);
                Number(w, "resolution", c.Resolution);
                w.WriteString("verdict", c.Verdict.Text());
                if (c.Rule != ClaimRule.TwoSided) w.WriteString("rule", c.Rule == ClaimRule.AtMost ? "at_most" : "at_least");
                if (c.Note is not null) w.WriteString("note", c.Note);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("series");
            // The table named ExperimentOutput.TopLevelSeries is written flat (series.step, series.loss, …), the others nested.
            foreach (var (name, table) in run.Output.Tables.OrderBy(t => t.Key == ExperimentOutput.TopLevelSeries ? 0 : 1))
            {
                bool flat = name == ExperimentOutput.TopLevelSeries;
                if (!flat) w.WriteStartObject(name);
                foreach (var (col, values) in table.Columns)
                {
                    w.WriteStartArray(col);
                    if (values is double[] nums) foreach (var v in nums) Number(w, null, v);
                    else foreach (var v in (string[])values) w.WriteStringValue(v);
                    w.WriteEndArray();
                }
                if (!flat) w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("timings");
            w.WriteNumber("total_s", Math.Round(run.ElapsedSeconds, 3));
            foreach (var (k, v) in run.Output.Timings) Number(w, k, Math.Round(v, 3));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void Number(Utf8JsonWriter w, string? name, double? v)
    {
        if (name is not null) w.WritePropertyName(name);
        if (v is { } x && double.IsFinite(x)) w.WriteNumberValue(x); else w.WriteNullValue();
    }

    /// <summary>
    /// The identity of a finished result.json (experiment, version, run id, seed, mode, config) and its verdicts, or null when
    /// the file is missing, unreadable or incomplete.
    /// </summary>
    public static ResultHeader? ReadHeader(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var r = doc.RootElement;
            return new ResultHeader(r.GetProperty("experiment").GetString()!, r.GetProperty("version").GetString()!,
                r.GetProperty("run_id").GetString()!, r.GetProperty("seed").GetUInt64(), r.GetProperty("mode").GetString()!,
                r.GetProperty("config").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                [.. r.GetProperty("claims").EnumerateArray().Select(c => c.GetProperty("verdict").GetString() ?? "")]);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or KeyNotFoundException
            or InvalidOperationException or FormatException or NullReferenceException)
        {
            return null;
        }
    }

    /// <summary>Reads the run id of an existing result.json, or null when the file is missing or unreadable.</summary>
    public static string? ReadRunId(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.TryGetProperty("run_id", out var id) ? id.GetString() : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }
}

/// <summary>A stored result's identity and verdicts (<see cref="ResultJson.ReadHeader"/>).</summary>
public sealed record ResultHeader(string Experiment, string Version, string RunId, ulong Seed, string Mode,
    IReadOnlyDictionary<string, string> Config, IReadOnlyList<string> Verdicts);
