using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LearningMechanics.Lab.Sweeps;

/// <summary>One task of a sweep: its place in the manifest, its content hash, the axis values and the lmech arguments.</summary>
/// <param name="Args">The <c>lmech</c> command line without <c>--out</c> (the task runner adds its own folder).</param>
public sealed record SweepTask(int Index, string Hash, ulong Seed, IReadOnlyDictionary<string, string> Values, string[] Args);

/// <summary>
/// A planned sweep: the tasks in a fixed order, written once as <c>DIR/manifest.jsonl</c> (one JSON object per line:
/// index, hash, seed, axis values, arguments). Planning is deterministic; re-planning an unchanged sweep reuses the
/// manifest, and a different sweep in the same folder is refused, so results can never be mixed up.
/// </summary>
public sealed record SweepPlan(string Name, IReadOnlyList<string> AxisNames, IReadOnlyList<string> Metrics, IReadOnlyList<SweepTask> Tasks)
{
    /// <summary>Options the task runner sets itself.</summary>
    private static readonly string[] Reserved = ["out", "id", "seed", "json"];

    public static SweepPlan From(SweepSpec spec)
    {
        foreach (var key in spec.Base.Keys.Concat(spec.Axes.Select(a => a.Name)))
            if (Reserved.Contains(key))
                throw new BadInputException($"Sweep key '{key}' is set by the sweep itself (seeds: key 'seeds'). Reserved: " +
                    $"{string.Join(", ", Reserved)}.");
        var points = Points(spec);
        var tasks = new List<SweepTask>();
        foreach (var values in points)
            foreach (ulong seed in spec.Seeds)
            {
                var args = Arguments(spec, values, seed);
                tasks.Add(new SweepTask(tasks.Count, Hash(args), seed, values, args));
            }
        var duplicate = tasks.GroupBy(t => t.Hash).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new BadInputException($"Sweep tasks {string.Join(" and ", duplicate.Select(t => t.Index))} run the same command; " +
                "an axis changes nothing (is its {placeholder} missing from the base?).");
        return new SweepPlan(spec.Name, spec.Axes.Select(a => a.Name).ToList(), spec.Metrics, tasks);
    }

    private static List<IReadOnlyDictionary<string, string>> Points(SweepSpec spec)
    {
        var points = new List<IReadOnlyDictionary<string, string>> { new SortedDictionary<string, string>(StringComparer.Ordinal) };
        if (spec.Combine == AxisCombination.Zip && spec.Axes.Count > 0)
            return Enumerable.Range(0, spec.Axes[0].Values.Length)
                .Select(i => (IReadOnlyDictionary<string, string>)new SortedDictionary<string, string>(
                    spec.Axes.ToDictionary(a => a.Name, a => a.Values[i]), StringComparer.Ordinal)).ToList();
        foreach (var (name, values) in spec.Axes)
            points = points.SelectMany(p => values.Select(v =>
            {
                var next = new SortedDictionary<string, string>(p.ToDictionary(), StringComparer.Ordinal) { [name] = v };
                return (IReadOnlyDictionary<string, string>)next;
            })).ToList();
        return points;
    }

    /// <summary>The lmech arguments of one point: base values with {axis} replaced, the other axes as their own options.</summary>
    private static string[] Arguments(SweepSpec spec, IReadOnlyDictionary<string, string> values, ulong seed)
    {
        string Fill(string text) => values.Aggregate(text, (t, kv) => t.Replace($"{{{kv.Key}}}", kv.Value, StringComparison.Ordinal));
        var options = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in spec.Base) options[k] = Fill(v);
        foreach (var (k, v) in values)
            if (!spec.Base.Values.Any(b => b.Contains($"{{{k}}}", StringComparison.Ordinal))) options[k] = v;
        var args = new List<string>();
        if (spec.Command == "train")
        {
            args.Add("train");
            foreach (var (k, v) in options)
            {
                if (v == "false") continue;
                args.Add($"--{k}");
                if (v != "true") args.Add(v);
            }
        }
        else
        {
            args.AddRange(["run", options["experiment"]]);
            if (options.TryGetValue("mode", out var mode))
            {
                if (mode is not ("quick" or "full"))
                    throw new BadInputException($"Sweep key 'base.mode' = '{mode}' is not allowed. Allowed: quick, full.");
                args.Add($"--{mode}");
            }
            foreach (var (k, v) in options.Where(o => o.Key is not ("experiment" or "mode"))) args.AddRange(["--set", $"{k}={v}"]);
        }
        args.AddRange(["--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return [.. args];
    }

    /// <summary>First 16 hex digits of SHA-256 over the arguments (NUL-separated): the task's identity and file name.</summary>
    public static string Hash(IEnumerable<string> args) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', args))))[..16];

    /// <summary>
    /// Writes the manifest into <paramref name="dir"/>, or reuses the one there when it is identical. Returns whether it was
    /// written now. A different manifest in the folder is an error (a new sweep needs a new folder).
    /// </summary>
    public bool Write(string dir)
    {
        var layout = new SweepLayout(dir);
        string text = ManifestText();
        if (File.Exists(layout.Manifest))
        {
            if (File.ReadAllText(layout.Manifest) == text) return false;
            throw new BadInputException($"'{dir}' holds a different sweep (its manifest differs); plan into a new folder.");
        }
        layout.Create();
        SweepLayout.WriteAtomically(layout.Manifest, text);
        return true;
    }

    private string ManifestText()
    {
        var sb = new StringBuilder();
        sb.Append(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["sweep"] = Name, ["axes"] = AxisNames, ["metrics"] = Metrics, ["tasks"] = Tasks.Count,
        })).Append('\n');
        foreach (var t in Tasks)
            sb.Append(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["index"] = t.Index, ["hash"] = t.Hash, ["seed"] = t.Seed, ["values"] = t.Values, ["args"] = t.Args,
            })).Append('\n');
        return sb.ToString();
    }

    /// <summary>Reads <c>DIR/manifest.jsonl</c>.</summary>
    public static SweepPlan Read(string dir)
    {
        var layout = new SweepLayout(dir);
        if (!File.Exists(layout.Manifest))
            throw new BadInputException($"'{dir}' has no manifest.jsonl; run 'lmech sweep plan FILE --out {dir}' first.");
        var lines = File.ReadAllLines(layout.Manifest).Where(l => l.Length > 0).ToArray();
        try
        {
            using var head = JsonDocument.Parse(lines[0]);
            var h = head.RootElement;
            var tasks = lines.Skip(1).Select(l =>
            {
                using var d = JsonDocument.Parse(l);
                var e = d.RootElement;
                return new SweepTask(e.GetProperty("index").GetInt32(), e.GetProperty("hash").GetString()!,
                    e.GetProperty("seed").GetUInt64(),
                    e.GetProperty("values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
                    e.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToArray());
            }).ToList();
            if (tasks.Count != h.GetProperty("tasks").GetInt32() || tasks.Where((t, i) => t.Index != i).Any())
                throw new BadInputException($"'{layout.Manifest}' is incomplete or out of order; plan the sweep again into a new folder.");
            return new SweepPlan(h.GetProperty("sweep").GetString()!,
                h.GetProperty("axes").EnumerateArray().Select(a => a.GetString()!).ToList(),
                h.GetProperty("metrics").EnumerateArray().Select(a => a.GetString()!).ToList(), tasks);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new BadInputException($"'{layout.Manifest}' is not a manifest written by lmech: {e.Message}");
        }
    }
}
