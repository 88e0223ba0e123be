namespace LearningMechanics.Lab;

/// <summary>
/// What every unit of a grid experiment's run shares (settings, data, the prediction), built once per seed and settings:
/// the units of an in-process run reuse it, a unit in its own process builds it once. Thread-safe.
/// </summary>
public sealed class RunCache<T>(Func<RunContext, T> build)
{
    private readonly Lock gate = new();
    private (string Key, T Value)? last;

    public T Get(RunContext ctx)
    {
        string key = $"{ctx.Mode};{ctx.Seed};" + string.Join(";", ctx.Settings.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        lock (gate)
        {
            if (last is { } c && c.Key == key) return c.Value;
            var value = build(ctx);
            last = (key, value);
            return value;
        }
    }
}
