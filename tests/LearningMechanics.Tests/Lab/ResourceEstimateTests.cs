using System.Globalization;
using LearningMechanics.Experiments;
using LearningMechanics.Lab;

namespace LearningMechanics.Tests.Lab;

/// <summary>
/// Every gallery experiment estimates its work and peak memory before it starts (<see cref="IExperiment.Estimate"/>): its
/// quick and full defaults pass <see cref="Runner.Prepare"/>, and a size setting a million times its quick default is
/// refused (by the setting's range, or by the estimate) unless forced.
/// </summary>
public class ResourceEstimateTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"lmech-estimate-{Guid.NewGuid():N}");

    public void Dispose() { if (Directory.Exists(dir)) Directory.Delete(dir, true); }

    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static TheoryData<string, RunMode> Defaults()
    {
        var data = new TheoryData<string, RunMode>();
        foreach (var e in Registry.All)
        {
            data.Add(e.Id, RunMode.Quick);
            data.Add(e.Id, RunMode.Full);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Defaults))]
    public void DefaultsHaveAFiniteEstimateAndPassTheRunner(string id, RunMode mode)
    {
        var e = Registry.Get(id);
        var settings = Runner.Prepare(e, new RunOptions(mode, OutDir: dir));
        var estimate = e.Estimate(settings);
        Assert.NotNull(estimate);
        var (flops, bytes) = estimate.Value;
        Assert.True(flops > 0 && double.IsFinite(flops), $"{id} {mode}: {flops} operations");
        Assert.True(bytes > 0 && double.IsFinite(bytes), $"{id} {mode}: {bytes} bytes");
        // Not absurd: a quick run stays far below the general limit, a full one below 10¹⁶ (days on 2 cores), and both fit
        // in the 16 GB of a lab machine.
        Assert.True(flops < (mode == RunMode.Quick ? Runner.MaxFlops / 10 : 1e16), $"{id} {mode}: {flops:G3} operations");
        Assert.True(bytes < 16e9, $"{id} {mode}: {bytes:G3} bytes");
    }

    /// <summary>
    /// Settings whose quick default is a positive integer but which do not size the work, each with why; their range has no
    /// upper bound that Validate could check.
    /// </summary>
    private static readonly Dictionary<(string Id, string Key), string> NotSizes = new()
    {
        [("gp-limit", "fit_min")] =
            "the smallest width entering the 1/n fits: too large a value makes the claims inconclusive, not the run larger",
        [("depth-mup", "sw2")] = "a weight variance σ_w²",
        [("double-descent", "r2")] = "the signal's norm ‖β‖²",
        [("eigenlearning", "beta")] = "the target's decay exponent v_i² = i^−β",
        [("lazy-training", "sw2")] = "a weight variance σ_w²",
        [("spectral-outliers", "lr")] = "a learning rate (too large a one diverges: the run is reported, not larger)",
        [("spectral-outliers", "ntk_lr")] = "a learning rate (too large a one diverges: the run is reported, not larger)",
        [("bayesian-finite-width", "target_scale")] = "the scale of the targets",
        [("dmft", "gamma0")] = "the richness γ₀ (a scale, not a size)",
    };

    private static bool IsSize(SettingInfo s) =>
        s.QuickDefault.Split(',').All(v => long.TryParse(v, NumberStyles.None, Ci, out long x) && x > 0);

    /// <summary>Every element of the quick default times 10⁶.</summary>
    private static string Scaled(SettingInfo s) =>
        string.Join(",", s.QuickDefault.Split(',').Select(v => (long.Parse(v, Ci) * 1_000_000).ToString(Ci)));

    /// <summary>Every (experiment, setting) whose quick default is a positive integer or a list of them, exemptions aside.
    /// </summary>
    public static TheoryData<string, string> SizeSettings()
    {
        var data = new TheoryData<string, string>();
        foreach (var e in Registry.All)
            foreach (var s in e.Settings.Where(IsSize))
                if (!NotSizes.ContainsKey((e.Id, s.Key))) data.Add(e.Id, s.Key);
        return data;
    }

    [Theory]
    [MemberData(nameof(SizeSettings))]
    public void AMillionTimesASizeSettingIsRefusedBeforeAnyWork(string id, string key)
    {
        var e = Registry.Get(id);
        var overrides = new Dictionary<string, string> { [key] = Scaled(e.Settings.Single(s => s.Key == key)) };
        try
        {
            Runner.Prepare(e, new RunOptions(RunMode.Quick, OutDir: dir, Overrides: overrides));
        }
        catch (BadInputException) { return; }
        // Accepted only by a machine with the memory for it: then it needs more than a 16 GB lab machine has.
        var estimate = e.Estimate(new Settings(e.Settings, RunMode.Quick, overrides))!.Value;
        Assert.True(estimate.Bytes > 16e9, string.Create(Ci, $"{id} {key}={overrides[key]} was accepted: {estimate}"));
    }

    /// <summary>The exemptions stay honest: each is a positive-integer setting that a million times over is accepted (else it
    /// belongs in the property test).</summary>
    [Fact]
    public void EveryExemptSettingExistsAndDoesNotSizeTheWork()
    {
        foreach (var ((id, key), why) in NotSizes)
        {
            var e = Registry.Get(id);
            var s = Assert.Single(e.Settings, s => s.Key == key);
            Assert.True(IsSize(s), $"{id} {key}: not a positive integer by default");
            var overrides = new Dictionary<string, string> { [key] = Scaled(s) };
            Runner.Prepare(e, new RunOptions(RunMode.Quick, OutDir: dir, Overrides: overrides));
            Assert.NotEmpty(why);
        }
    }

    [Fact]
    public void ForceRunsWhatOnlyTheEstimateRefuses()
    {
        var e = Registry.Get("gp-limit");
        var overrides = new Dictionary<string, string> { ["nets"] = "100000000" };
        var refused = Assert.Throws<BadInputException>(() => Runner.Prepare(e, new RunOptions(OutDir: dir, Overrides: overrides)));
        Assert.Contains("floating-point operations", refused.Message);
        Assert.Contains("--force", refused.Message);
        var settings = Runner.Prepare(e, new RunOptions(OutDir: dir, Overrides: overrides, Force: true));
        Assert.Equal("100000000", settings.Values["nets"]);
    }

    /// <summary>Two billion eigenmodes at three tiny sample sizes: little work, but the features and learnabilities of a
    /// terabyte.</summary>
    [Fact]
    public void MemoryBeyondTheMachineIsRefusedWithTheGigabytesNeeded()
    {
        var e = Registry.Get("eigenlearning");
        var overrides = new Dictionary<string, string> { ["modes"] = "2000000000", ["ns"] = "2,3,4", ["pool"] = "0" };
        var estimate = e.Estimate(new Settings(e.Settings, RunMode.Quick, overrides))!.Value;
        Assert.True(estimate.Flops < Runner.MaxFlops);
        var refused = Assert.Throws<BadInputException>(() => Runner.Prepare(e, new RunOptions(OutDir: dir, Overrides: overrides)));
        Assert.Contains("GB of memory", refused.Message);
        Assert.Contains("--force", refused.Message);
        Assert.DoesNotContain("floating-point operations", refused.Message);
    }

    /// <summary>A grid experiment's publication-size defaults (days on 2 cores) run as declared; beyond both them and
    /// <see cref="Runner.MaxFlops"/> the run is refused.</summary>
    [Fact]
    public void TheLimitIsTheFullDefaultsWhereTheyNeedMore()
    {
        var e = Registry.Get("mup-transfer");
        double full = e.Estimate(new Settings(e.Settings, RunMode.Full, new Dictionary<string, string>()))!.Value.Flops;
        Assert.True(full > Runner.MaxFlops);
        Assert.Equal(full, Runner.FlopsLimit(e));
        Assert.Equal(Runner.MaxFlops, Runner.FlopsLimit(Registry.Get("gp-limit")));
        var bigger = new Dictionary<string, string> { ["seeds"] = "12" };
        var refused = Assert.Throws<BadInputException>(() =>
            Runner.Prepare(e, new RunOptions(RunMode.Full, OutDir: dir, Overrides: bigger)));
        Assert.Contains("what its --full defaults need", refused.Message);
    }
}
