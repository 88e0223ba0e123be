using System.Text.Json;
using System.Text.Json.Serialization;

namespace LearningMechanics.Lab;

/// <summary>
/// An experiment whose measurement is a grid of independent units (one training run per width and network, one
/// ensemble per configuration and width, …) followed by a judgement over all of them. The units can run in this process
/// or as separate processes, on this machine or a Slurm cluster (<see cref="IUnitRunner"/>); the verdicts are the same
/// bit for bit, because a unit's result depends only on the seed, the settings and its key, and reaches the judgement as
/// JSON either way.
/// </summary>
public interface IGridExperiment : IExperiment
{
    /// <summary>The units for these settings, in a fixed order; each key is short stable text (e.g. "width=256,net=3").</summary>
    IReadOnlyList<string> Units(RunContext context);

    /// <summary>Measures one unit (its random streams derive from the seed and the unit alone).</summary>
    JsonElement Measure(RunContext context, string unit);

    /// <summary>Claims, tables and plots from every unit's measurement, by key.</summary>
    ExperimentOutput Judge(RunContext context, IReadOnlyDictionary<string, JsonElement> measurements);
}

/// <summary>Where a grid experiment's units run (<see cref="RunContext.Units"/>; null: in this process, one after another).</summary>
public interface IUnitRunner
{
    IReadOnlyDictionary<string, JsonElement> MeasureAll(IGridExperiment experiment, RunContext context, IReadOnlyList<string> units);
}

/// <summary>A grid run's units failed or never ran; finished units are kept, and running the same command again retries the
/// rest.</summary>
public sealed class UnitsFailedException(string message) : Exception(message);

/// <summary>Running grid experiments and moving their unit results through JSON.</summary>
public static class Grid
{
    /// <summary>Serialisation of unit results: round-trip doubles, NaN and ±∞ as named literals, public fields included.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        IncludeFields = true,
    };

    /// <summary>Measures every unit where <see cref="RunContext.Units"/> says (here by default), then judges.</summary>
    public static ExperimentOutput Run(IGridExperiment experiment, RunContext context)
    {
        var units = experiment.Units(context);
        if (units.Distinct().Count() != units.Count) throw new InvalidOperationException($"{experiment.Id}: unit keys repeat.");
        var measured = (context.Units ?? InProcess.Instance).MeasureAll(experiment, context, units);
        return experiment.Judge(context, measured);
    }

    public static JsonElement ToJson<T>(T value) => JsonSerializer.SerializeToElement(value, Json);

    public static T FromJson<T>(JsonElement element) =>
        element.Deserialize<T>(Json) ?? throw new InvalidOperationException($"A unit result is not a {typeof(T).Name}.");

    private sealed class InProcess : IUnitRunner
    {
        public static readonly InProcess Instance = new();

        /// <summary>Each unit's result goes through its JSON text, exactly as a unit from another process does.</summary>
        public IReadOnlyDictionary<string, JsonElement> MeasureAll(IGridExperiment experiment, RunContext context,
            IReadOnlyList<string> units)
        {
            var measured = new Dictionary<string, JsonElement>();
            foreach (var u in units)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                using var doc = JsonDocument.Parse(experiment.Measure(context, u).GetRawText());
                measured[u] = doc.RootElement.Clone();
                context.Progress?.Report(new ProgressInfo($"units (last: {u})", measured.Count, units.Count));
            }
            return measured;
        }
    }
}
