using System.Text.RegularExpressions;
using LearningMechanics.Experiments;
using LearningMechanics.Lab;

namespace LearningMechanics.Tests.Lab;

/// <summary>
/// Every gallery experiment declares its claims as data, and its run yields exactly the declared claims: each claim is an
/// instance of one declaration (id, statement, source and rule as declared) and each declaration yields at least one claim.
/// The runs use small settings, so the verdicts do not matter here, only which claims appear and with what text.
/// </summary>
public partial class ExperimentDeclarationTests
{
    /// <summary>Small settings per experiment: seconds per run, and every declared claim still appears.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> Small = new()
    {
        ["gp-limit"] = new() { ["widths"] = "8,16,32", ["nets"] = "200", ["depth"] = "2", ["acts"] = "relu,tanh", ["fit_min"] = "8" },
        ["criticality"] = new() { ["width"] = "32", ["depth"] = "8", ["nets"] = "8", ["acts"] = "relu,tanh" },
        ["ntk-limit"] = new() { ["widths"] = "8,16,32", ["depth"] = "1", ["nets"] = "20", ["acts"] = "relu" },
        ["finite-width-vertex"] = new() { ["widths"] = "8,16", ["depth"] = "3", ["nets"] = "50" },
        ["mup-transfer"] = new()
        {
            ["widths"] = "16,32,64", ["seeds"] = "2", ["steps"] = "4", ["batch"] = "16", ["n_train"] = "64",
            ["adam_log2_lr"] = "-8:-5", ["momentum_log2_lr"] = "-4:-1",
        },
        ["depth-mup"] = new()
        {
            ["width"] = "16", ["depths"] = "2,4,8", ["nets"] = "12", ["train_width"] = "8", ["train_depths"] = "1,2,4",
            ["train_alphas"] = "0.5,1", ["seeds"] = "2", ["steps"] = "4", ["batch"] = "16", ["n_train"] = "64", ["adam_log2_lr"] = "-8:-6",
        },
        ["edge-of-stability"] = new()
        {
            ["gd_lrs"] = "0.5,1", ["momentum_lrs"] = "1", ["steps"] = "100", ["every"] = "5", ["lanczos"] = "6", ["n_train"] = "32",
            ["width"] = "8", ["blocks"] = "2",
        },
        ["linear-scaling"] = new()
        {
            ["batches"] = "2,4,8,16", ["log2_lr"] = "-6:0", ["lr_steps_per_octave"] = "1", ["seeds"] = "2", ["width"] = "8",
            ["n_train"] = "64", ["probe"] = "32", ["target"] = "1.8", ["max_examples"] = "2000",
        },
        ["residual-vertex"] = new() { ["widths"] = "8,16,32", ["depth"] = "4", ["nets"] = "256", ["acts"] = "relu", ["gammas"] = "0.5" },
        ["conservation"] = new() { ["width"] = "8", ["n_train"] = "12", ["steps"] = "20", ["batch"] = "4", ["sgd_lr"] = "0.025" },
        ["spectral-outliers"] = new()
        {
            ["widths"] = "16,24,32", ["n_train"] = "40", ["steps"] = "20", ["seeds"] = "2", ["records"] = "2", ["null_draws"] = "10",
        },
        ["dmft"] = new()
        {
            ["widths"] = "16,24,32", ["nets"] = "2", ["points"] = "4", ["dim"] = "3", ["steps"] = "10", ["records"] = "2",
            ["samples"] = "256", ["replicas"] = "2",
        },
        ["neural-collapse"] = new() { ["per_class"] = "3", ["width"] = "16", ["steps"] = "200", ["seeds"] = "2", ["records"] = "5" },
        ["feature-ansatz"] = new() { ["d"] = "6", ["n_train"] = "64", ["width"] = "16", ["steps"] = "30", ["seeds"] = "2" },
        ["deep-linear"] = new()
        {
            ["singular_values"] = "2,1", ["hiddens"] = "8,12,16", ["nets"] = "3", ["lr"] = "0.02", ["init_std"] = "0.01",
            ["depths"] = "3", ["u0s"] = "0.1,0.01", ["depth_lr"] = "0.02",
        },
        ["double-descent"] = new() { ["p"] = "20", ["gammas"] = "0.5,2", ["draws"] = "10" },
        ["scaling-laws"] = new() { ["noise"] = "0.01", ["grid"] = "3", ["bootstrap"] = "3" },
        ["eigenlearning"] = new()
        {
            ["modes"] = "64", ["ns"] = "16,32,48", ["draws"] = "4", ["pool"] = "64", ["pool_ns"] = "16,32",
        },
        ["lazy-training"] = new()
        {
            ["widths"] = "64,128,256", ["nets"] = "2", ["n_train"] = "8", ["n_test"] = "4", ["steps"] = "10",
        },
        ["lazy-vs-rich"] = new()
        {
            ["alphas"] = "1,10,30", ["acts"] = "tanh,relu", ["width"] = "16", ["nets"] = "2", ["n_train"] = "16", ["n_test"] = "16",
            ["max_steps"] = "30",
        },
        ["ntk-fluctuations"] = new() { ["acts"] = "relu", ["widths"] = "8,16,32", ["depths"] = "1,2", ["nets"] = "50" },
        ["bayesian-finite-width"] = new()
        {
            ["acts"] = "relu", ["depth"] = "1", ["widths"] = "8,16,32", ["nets"] = "500", ["real_nets"] = "500", ["n_test"] = "1",
            ["calib_acts"] = "relu", ["calib_train"] = "20", ["calib_test"] = "20",
        },
    };

    public static TheoryData<string> Ids() => [.. Registry.All.Select(e => e.Id)];

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^{}]+)?\}")]
    private static partial Regex Placeholder();

    [Fact]
    public void EveryDeclaredClaimNamesTheHypothesisItMustRuleOut()
    {
        var missing = Registry.All
            .SelectMany(e => e.Claims.Where(d => string.IsNullOrWhiteSpace(d.Competitor)).Select(d => $"{e.Id}/{d.Id}"))
            .ToList();
        Assert.True(missing.Count == 0, "Claims without a competing hypothesis: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryExperimentHasSmallSettingsHere() => Assert.Equal(Registry.All.Select(e => e.Id).Order(), Small.Keys.Order());

    [Theory]
    [MemberData(nameof(Ids))]
    public void DeclarationsAreCompleteAndNoTwoShareAnId(string id)
    {
        var e = Registry.Get(id);
        Assert.NotEmpty(e.Claims);
        foreach (var d in e.Claims)
        {
            Assert.False(string.IsNullOrWhiteSpace(d.Statement), d.Id);
            Assert.False(string.IsNullOrWhiteSpace(d.Reference), d.Id);
            Assert.False(string.IsNullOrWhiteSpace(d.Tolerance), d.Id);
        }
        // Distinct as patterns: renaming a placeholder does not make a second declaration of the same ids.
        var shapes = e.Claims.Select(d => Placeholder().Replace(d.Id, "{}")).ToList();
        Assert.Equal(shapes.Count, shapes.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheRunYieldsExactlyTheDeclaredClaims(string id)
    {
        var e = Registry.Get(id);
        var output = e.Run(new RunContext(RunMode.Quick, 7, new Settings(e.Settings, RunMode.Quick, Small[id])));
        var used = new HashSet<ClaimDeclaration>();
        foreach (var claim in output.Claims)
        {
            var d = Declaration(e, claim.Id);
            used.Add(d);
            Assert.True(StatementMatches(d, claim), $"{claim.Id}: '{claim.Statement}' is not an instance of '{d.Statement}'.");
            Assert.Equal(d.Reference, claim.Source);
            Assert.Equal(d.Rule, claim.Rule);
        }
        Assert.Equal(output.Claims.Count, output.Claims.Select(c => c.Id).Distinct().Count());
        Assert.Empty(e.Claims.Where(d => !used.Contains(d)).Select(d => d.Id));
    }

    /// <summary>The one most specific declaration (longest fixed text) whose id pattern the claim id matches.</summary>
    private static ClaimDeclaration Declaration(IExperiment e, string claimId)
    {
        var matching = e.Claims.Where(d => d.Matches(claimId)).ToList();
        Assert.True(matching.Count > 0, $"{e.Id}: claim '{claimId}' has no declaration.");
        int best = matching.Max(Specificity);
        return Assert.Single(matching, d => Specificity(d) == best);
    }

    private static int Specificity(ClaimDeclaration d) => Placeholder().Replace(d.Id, "").Length;

    /// <summary>The statement is the template with the id's placeholder values where they recur, anything elsewhere.</summary>
    private static bool StatementMatches(ClaimDeclaration d, Claim claim)
    {
        var idMatch = Regex.Match(claim.Id, "^" + Pattern(d.Id, _ => null) + "$", RegexOptions.Singleline);
        string statement = Pattern(d.Statement, name => idMatch.Groups[name].Success ? idMatch.Groups[name].Value : null);
        return Regex.IsMatch(claim.Statement, "^" + statement + "$", RegexOptions.Singleline);
    }

    /// <summary>
    /// A regex for a template: fixed text escaped; a placeholder becomes its known value, else a named group at its first use and
    /// a back-reference after.
    /// </summary>
    private static string Pattern(string template, Func<string, string?> known)
    {
        var seen = new HashSet<string>();
        int at = 0;
        var sb = new System.Text.StringBuilder();
        foreach (Match m in Placeholder().Matches(template))
        {
            sb.Append(Regex.Escape(template[at..m.Index]));
            string name = m.Groups[1].Value;
            sb.Append(known(name) is { } v ? Regex.Escape(v) : seen.Add(name) ? $"(?<{name}>.+)" : $@"\k<{name}>");
            at = m.Index + m.Length;
        }
        return sb.Append(Regex.Escape(template[at..])).ToString();
    }
}
