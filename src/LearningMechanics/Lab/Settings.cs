using System.Globalization;

namespace LearningMechanics.Lab;

/// <summary>A setting an experiment accepts through <c>--set key=value</c>, with its quick and full defaults.</summary>
public sealed record SettingInfo(string Key, string Description, string QuickDefault, string FullDefault);

/// <summary>Quick (≤ 60 s on 2 cores) or full (minutes, publication-size) experiment mode.</summary>
public enum RunMode { Quick, Full }

/// <summary>
/// The resolved settings of one run: the experiment's defaults for the mode, overridden by the user's
/// <c>--set</c> pairs. Unknown keys and unparsable values throw <see cref="BadInputException"/> naming the allowed ones.
/// </summary>
public sealed class Settings
{
    private readonly Dictionary<string, string> values = new(StringComparer.OrdinalIgnoreCase);
    private readonly IReadOnlyList<SettingInfo> known;

    public Settings(IReadOnlyList<SettingInfo> known, RunMode mode, IReadOnlyDictionary<string, string> overrides)
    {
        this.known = known;
        foreach (var s in known) values[s.Key] = mode == RunMode.Quick ? s.QuickDefault : s.FullDefault;
        foreach (var (k, v) in overrides)
        {
            if (!values.ContainsKey(k))
                throw new BadInputException($"Unknown setting '{k}'. Allowed: {string.Join(", ", known.Select(s => s.Key))}.");
            values[k] = v.Trim();
        }
    }

    /// <summary>All resolved values (for the result's config).</summary>
    public IReadOnlyDictionary<string, string> Values => values;

    public string GetString(string key) =>
        values.TryGetValue(key, out var v) ? v : throw new ArgumentException($"Setting '{key}' is not declared.");

    public int GetInt(string key, int min = int.MinValue)
    {
        var s = GetString(key);
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min)
            throw new BadInputException($"Setting {key}='{s}' must be an integer ≥ {min}.");
        return v;
    }

    public double GetDouble(string key, double min = double.NegativeInfinity)
    {
        var s = GetString(key);
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v < min)
            throw new BadInputException($"Setting {key}='{s}' must be a finite number ≥ {min}.");
        return v;
    }

    /// <summary>A comma-separated list of positive integers, e.g. widths=8,16,32.</summary>
    public int[] GetIntList(string key, int min = 1)
    {
        var s = GetString(key);
        var parts = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new BadInputException($"Setting {key}='{s}' must be a comma-separated list of integers ≥ {min}.");
        return parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min ? v
            : throw new BadInputException($"Setting {key}: '{p}' is not an integer ≥ {min}.")).ToArray();
    }

    /// <summary>A comma-separated list of finite numbers in (min, max] (or [min, max] when <paramref name="minInclusive"/>),
    /// e.g. gammas=0.5,2.</summary>
    public double[] GetDoubleList(string key, double min, double max = double.PositiveInfinity, bool minInclusive = false)
    {
        var parts = GetList(key);
        string range = string.Create(CultureInfo.InvariantCulture,
            $"{(minInclusive ? "[" : "(")}{min}, {(double.IsPositiveInfinity(max) ? "∞)" : $"{max}]")}");
        if (parts.Length == 0) throw new BadInputException($"Setting {key} must be a comma-separated list of numbers in {range}.");
        return [.. parts.Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) &&
            double.IsFinite(v) && (minInclusive ? v >= min : v > min) && v <= max ? v
            : throw new BadInputException($"Setting {key}: '{p}' is not a number in {range}."))];
    }

    /// <summary>The largest |log₂| of a grid's ends: 2^±64 is far beyond any learning rate.</summary>
    private const int MaxLog2 = 64;

    /// <summary>
    /// A log₂ grid "FROM:TO" of integers (at least two octaves apart), with <paramref name="perOctave"/> points per octave:
    /// e.g. adam_log2_lr=-12:-3 gives −12, −11, …, −3.
    /// </summary>
    public double[] GetLog2Grid(string key, int perOctave = 1)
    {
        var parts = GetString(key).Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int from)
            || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int to) || (long)to - from < 2
            || from < -MaxLog2 || to > MaxLog2)
            throw new BadInputException($"Setting {key}='{GetString(key)}' must be FROM:TO (integers, log₂, within ±{MaxLog2}) " +
                "with at least 3 learning rates, e.g. -12:-3.");
        if (perOctave < 1) throw new ArgumentOutOfRangeException(nameof(perOctave), $"{perOctave} points per octave.");
        return [.. Enumerable.Range(0, (to - from) * perOctave + 1).Select(k => from + (double)k / perOctave)];
    }

    public string[] GetList(string key) =>
        GetString(key).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Parses "key=value" pairs from the command line; a pair without '=' or with an empty key is bad input.</summary>
    public static Dictionary<string, string> ParsePairs(IEnumerable<string> pairs)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in pairs)
        {
            int eq = p.IndexOf('=');
            if (eq <= 0 || eq == p.Length - 1) throw new BadInputException($"Malformed --set '{p}': expected key=value.");
            d[p[..eq].Trim()] = p[(eq + 1)..];
        }
        return d;
    }
}
