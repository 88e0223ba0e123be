using System.Globalization;
using System.Text.Json;

namespace LearningMechanics.Lab.Sweeps;

/// <summary>How the axes combine: every combination, or the i-th value of each axis together.</summary>
public enum AxisCombination { Cross, Zip }

/// <summary>
/// A sweep file (JSON): a base <c>lmech</c> command (<c>train</c> options, or a gallery experiment and its settings), the
/// axes it varies, the seeds and the metrics to keep. Example:
/// <code>
/// { "name": "lr-width", "command": "train",
///   "base": { "arch": "dense({width})-relu-dense(1)", "data": "teacher", "n-train": 64, "steps": 100 },
///   "axes": { "width": [64, 128], "lr": { "log": [0.01, 1, 5] } }, "combine": "cross", "seeds": [1, 2],
///   "metrics": ["final_train_loss"] }
/// </code>
/// An axis value replaces <c>{axis}</c> in every base value; an axis named nowhere in the base becomes an option of its
/// own (<c>--lr 0.1</c> for <c>train</c>, <c>--set lr=0.1</c> for <c>run</c>). Every error names the key.
/// </summary>
public sealed record SweepSpec(string Name, string Command, IReadOnlyDictionary<string, string> Base,
    IReadOnlyList<(string Name, string[] Values)> Axes, AxisCombination Combine, IReadOnlyList<ulong> Seeds,
    IReadOnlyList<string> Metrics)
{
    /// <summary>The commands a sweep can vary.</summary>
    public static readonly string[] Commands = ["train", "run"];

    private static readonly string[] Keys = ["name", "command", "base", "axes", "combine", "seeds", "metrics"];

    /// <summary>Hard cap on the number of tasks, so a typo in a log range cannot plan millions of runs.</summary>
    public const int MaxTasks = 100_000;

    public static SweepSpec Load(string path)
    {
        if (!File.Exists(path)) throw new BadInputException($"Sweep file '{path}' does not exist.");
        if (new FileInfo(path).Length > 1 << 20) throw new BadInputException($"Sweep file '{path}' is larger than 1 MiB.");
        return Parse(File.ReadAllText(path), path);
    }

    public static SweepSpec Parse(string json, string origin = "sweep file")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException e) { throw new BadInputException($"{origin} is not valid JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new BadInputException($"{origin} must hold a JSON object.");
            foreach (var p in root.EnumerateObject())
                if (!Keys.Contains(p.Name))
                    throw new BadInputException($"{origin}: unknown key '{p.Name}'. Allowed: {string.Join(", ", Keys)}.");
            string name = Text(root, "name", origin, "sweep");
            if (name.Length == 0 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
                throw new BadInputException($"{origin}: key 'name' = '{name}' must be letters, digits, '-', '_' or '.'.");
            string command = Text(root, "command", origin, null);
            if (!Commands.Contains(command))
                throw new BadInputException(
                    $"{origin}: key 'command' = '{command}' is not allowed. Allowed: {string.Join(", ", Commands)}.");
            var baseValues = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("base", out var b))
            {
                if (b.ValueKind != JsonValueKind.Object) throw new BadInputException($"{origin}: key 'base' must be an object.");
                foreach (var p in b.EnumerateObject())
                    baseValues[OptionName(p.Name, "base", origin)] = Scalar(p.Value, $"base.{p.Name}", origin);
            }
            if (command == "run" && !baseValues.ContainsKey("experiment"))
                throw new BadInputException($"{origin}: key 'base.experiment' is required for command 'run' (see 'lmech list').");
            var axes = ParseAxes(root, origin);
            foreach (var (axis, _) in axes)
                if (baseValues.ContainsKey(axis))
                    throw new BadInputException($"{origin}: key 'axes.{axis}' also appears in 'base'; give it in one place.");
            var combine = AxisCombination.Cross;
            if (root.TryGetProperty("combine", out var c))
                combine = Scalar(c, "combine", origin) switch
                {
                    "cross" => AxisCombination.Cross,
                    "zip" => AxisCombination.Zip,
                    var v => throw new BadInputException($"{origin}: key 'combine' = '{v}' is not allowed. Allowed: cross, zip."),
                };
            if (combine == AxisCombination.Zip && axes.Select(a => a.Values.Length).Distinct().Count() > 1)
                throw new BadInputException($"{origin}: key 'combine' = 'zip' needs axes of equal length; they have " +
                    string.Join(", ", axes.Select(a => $"{a.Name}: {a.Values.Length}")) + ".");
            var seeds = new List<ulong>();
            if (root.TryGetProperty("seeds", out var s))
            {
                if (s.ValueKind != JsonValueKind.Array) throw new BadInputException($"{origin}: key 'seeds' must be a list of integers.");
                foreach (var e in s.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Number || !e.TryGetUInt64(out ulong v))
                        throw new BadInputException($"{origin}: key 'seeds' must hold integers ≥ 0; got {e.GetRawText()}.");
                    seeds.Add(v);
                }
            }
            if (seeds.Count == 0) seeds.Add(42);
            if (seeds.Distinct().Count() != seeds.Count) throw new BadInputException($"{origin}: key 'seeds' repeats a seed.");
            var metrics = new List<string>();
            if (root.TryGetProperty("metrics", out var m))
            {
                if (m.ValueKind != JsonValueKind.Array) throw new BadInputException($"{origin}: key 'metrics' must be a list of names.");
                foreach (var e in m.EnumerateArray()) metrics.Add(Scalar(e, "metrics", origin));
            }
            var spec = new SweepSpec(name, command, baseValues, axes, combine, seeds, metrics);
            long count = spec.CountTasks();
            if (count > MaxTasks) throw new BadInputException($"{origin}: the sweep has {count} tasks; at most {MaxTasks} are allowed.");
            return spec;
        }
    }

    /// <summary>Number of tasks: (product or common length of the axes) × seeds.</summary>
    public long CountTasks()
    {
        long points = Axes.Count == 0 ? 1
            : Combine == AxisCombination.Zip ? Axes[0].Values.Length
            : Axes.Aggregate(1L, (acc, a) => acc > MaxTasks ? acc : acc * a.Values.Length);
        return points * Seeds.Count;
    }

    private static List<(string Name, string[] Values)> ParseAxes(JsonElement root, string origin)
    {
        var axes = new List<(string Name, string[] Values)>();
        if (!root.TryGetProperty("axes", out var a)) return axes;
        if (a.ValueKind != JsonValueKind.Object) throw new BadInputException($"{origin}: key 'axes' must be an object of lists.");
        foreach (var p in a.EnumerateObject())
        {
            string key = $"axes.{p.Name}";
            string name = OptionName(p.Name, "axes", origin);
            string[] values = p.Value.ValueKind switch
            {
                JsonValueKind.Array => p.Value.EnumerateArray().Select(e => Scalar(e, key, origin)).ToArray(),
                JsonValueKind.Object => LogRange(p.Value, key, origin),
                _ => throw new BadInputException($"{origin}: key '{key}' must be a list or {{\"log\": [from, to, count]}}."),
            };
            if (values.Length == 0) throw new BadInputException($"{origin}: key '{key}' is empty.");
            if (values.Distinct().Count() != values.Length) throw new BadInputException($"{origin}: key '{key}' repeats a value.");
            axes.Add((name, values));
        }
        return axes;
    }

    /// <summary>{"log": [from, to, count]}: count values spaced evenly in log between from and to (both included).</summary>
    private static string[] LogRange(JsonElement e, string key, string origin)
    {
        if (!e.TryGetProperty("log", out var l) || e.EnumerateObject().Count() != 1 || l.ValueKind != JsonValueKind.Array
            || l.GetArrayLength() != 3)
            throw new BadInputException($"{origin}: key '{key}' must be a list or {{\"log\": [from, to, count]}}.");
        var v = l.EnumerateArray().ToArray();
        if (!v[0].TryGetDouble(out double from) || !v[1].TryGetDouble(out double to) || !v[2].TryGetInt32(out int count)
            || !(from > 0) || !(to > 0) || !double.IsFinite(from) || !double.IsFinite(to) || count < 1 || count > MaxTasks)
            throw new BadInputException($"{origin}: key '{key}': log range needs 0 < from, 0 < to and 1 ≤ count ≤ {MaxTasks}.");
        if (count == 1) return [Format(from)];
        // 12 significant digits: 0.01, not the 0.010000000000000004 that exp(ln 0.01) gives.
        return Enumerable.Range(0, count)
            .Select(i => Math.Exp(Math.Log(from) + (Math.Log(to) - Math.Log(from)) * i / (count - 1)))
            .Select(v => Format(double.Parse(v.ToString("G12", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture))).ToArray();
    }

    /// <summary>Shortest round-trip text of a number: the same on every machine, so task hashes are stable.</summary>
    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string OptionName(string name, string section, string origin)
    {
        if (name.Length == 0 || name.Length > 64 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            throw new BadInputException($"{origin}: key '{section}.{name}' must be an option name (letters, digits, '-', '_').");
        return name;
    }

    private static string Text(JsonElement root, string key, string origin, string? fallback)
    {
        if (!root.TryGetProperty(key, out var e))
            return fallback ?? throw new BadInputException($"{origin}: key '{key}' is missing.");
        return Scalar(e, key, origin);
    }

    private static string Scalar(JsonElement e, string key, string origin) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => e.TryGetInt64(out long i) ? i.ToString(CultureInfo.InvariantCulture) : Format(e.GetDouble()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new BadInputException($"{origin}: key '{key}' must be a string, number or boolean; got {e.ValueKind}."),
    };
}
