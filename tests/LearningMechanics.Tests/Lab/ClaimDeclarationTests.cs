using LearningMechanics.Lab;

namespace LearningMechanics.Tests.Lab;

/// <summary>Claim declarations: placeholders filled (with formats, invariant culture), literal braces kept, mistakes caught.</summary>
public class ClaimDeclarationTests
{
    private static readonly ClaimDeclaration Declared = new("slope-{act}-{config}",
        "{act}, {config} (σ_w² = {sw2:G4}): decays as n^{−1} at depth {depth}", "Roberts & Yaida 2022, eq. 5.110", ClaimRule.AtMost,
        "4·SE");

    [Fact]
    public void WithFillsIdAndStatementAndKeepsSourceAndRule()
    {
        var c = Declared.With(("act", "relu"), ("config", "critical"), ("sw2", 2.0 / 3), ("depth", 4));
        Assert.Equal("slope-relu-critical", c.Id);
        Assert.Equal("relu, critical (σ_w² = 0.6667): decays as n^{−1} at depth 4", c.Statement);
        Assert.Equal("Roberts & Yaida 2022, eq. 5.110", c.Source);
        Assert.Equal(ClaimRule.AtMost, c.Rule);
        Assert.Equal(["act", "config", "sw2", "depth"], Declared.Placeholders);
    }

    [Fact]
    public void ClaimsMadeFromADeclarationCarryItsTextAndRule()
    {
        var c = Declared.With(("act", "tanh"), ("config", "ordered"), ("sw2", 1.0), ("depth", 2));
        var pass = c.Compare(1, 1.3, 0.1, 0.4, "note");
        var fail = c.Compare(1, 1.5, 0.1, 0.4);
        var open = c.Inconclusive(1, "why");
        Assert.Equal((Verdict.Pass, Verdict.Fail, Verdict.Inconclusive), (pass.Verdict, fail.Verdict, open.Verdict));
        Assert.All(new[] { pass, fail, open },
            x => Assert.Equal((c.Id, c.Statement, c.Source, ClaimRule.AtMost), (x.Id, x.Statement, x.Source, x.Rule)));
        Assert.Equal("note", pass.Note);
        Assert.Null(open.Measured);
    }

    [Fact]
    public void AMissingOrUnknownPlaceholderIsAProgrammingError()
    {
        Assert.Throws<ArgumentException>(() => Declared.With(("act", "relu"), ("config", "critical"), ("sw2", 2.0)));
        Assert.Throws<ArgumentException>(
            () => Declared.With(("act", "relu"), ("config", "critical"), ("sw2", 2.0), ("depth", 1), ("width", 8)));
    }

    [Theory]
    [InlineData("slope-relu-critical", true)]
    [InlineData("slope-leaky_relu(0.1)-off-critical", true)]
    [InlineData("slope-relu", false)]
    [InlineData("xslope-relu-critical", false)]
    [InlineData("slope-relu-critical-", true)]
    public void MatchesTellsWhetherAnIdIsAnInstanceOfThePattern(string id, bool expected) =>
        Assert.Equal(expected, Declared.Matches(id));

    [Fact]
    public void AnIdWithoutPlaceholdersMatchesOnlyItself()
    {
        var d = new ClaimDeclaration("test-mse", "KRR test MSE", "Simon et al. 2023", ClaimRule.TwoSided, "4·SE");
        Assert.True(d.Matches("test-mse"));
        Assert.False(d.Matches("test-mse2"));
        Assert.Empty(d.Placeholders);
        Assert.Equal("test-mse", d.With().Id);
    }
}
