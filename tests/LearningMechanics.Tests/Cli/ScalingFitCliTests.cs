using System.Globalization;
using System.Text.Json;
using LearningMechanics.Lab;

namespace LearningMechanics.Tests.Cli;

/// <summary><c>lmech scaling-fit</c>: a user's table of runs in, parameters with intervals out; bad tables exit 2 naming the
/// row and column; held-out runs are predicted.</summary>
[Collection("console")]
public class ScalingFitCliTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"lmech-sf-{Guid.NewGuid():N}");

    public ScalingFitCliTests() => Directory.CreateDirectory(dir);

    public void Dispose() { if (Directory.Exists(dir)) Directory.Delete(dir, true); }

    private static readonly ScalingLaw Truth = new(1.69, 406.4, 0.34, 410.7, 0.28);

    private string Table(Func<int, string>? rowOverride = null, string header = "params,tokens,loss")
    {
        var lines = new List<string> { header };
        int row = 0;
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
            {
                double n = 1e7 * Math.Pow(10, i * 0.6), d = 1e8 * Math.Pow(10, j * 0.6);
                row++;
                lines.Add(rowOverride?.Invoke(row) ?? string.Create(CultureInfo.InvariantCulture, $"{n:R},{d:R},{Truth.Loss(n, d):R}"));
            }
        string path = Path.Combine(dir, $"runs-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void FitsAUsersTableAndPredictsTheHeldOutRuns()
    {
        var (code, stdout, err) = CliHarness.Run("scaling-fit", Table(), "--bootstrap", "10", "--exclude-top", "3", "--json",
            "--out", Path.Combine(dir, "report"));
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var p = doc.RootElement.GetProperty("parameters");
        Assert.Equal(0.34, p.GetProperty("alpha").GetProperty("estimate").GetDouble(), 1e-3);
        Assert.Equal(0.28, p.GetProperty("beta").GetProperty("estimate").GetDouble(), 1e-3);
        Assert.Equal(33, doc.RootElement.GetProperty("rows_fitted").GetInt32());
        var held = doc.RootElement.GetProperty("held_out").EnumerateArray().ToList();
        Assert.Equal(3, held.Count);
        foreach (var h in held)
            Assert.Equal(h.GetProperty("loss").GetDouble(), h.GetProperty("predicted").GetDouble(), 1e-4);
        Assert.True(File.Exists(Path.Combine(dir, "report", "report.html")));
    }

    [Theory]
    [InlineData(5, "-1", "line 6", "params")]
    [InlineData(2, "abc", "line 3", "params")]
    [InlineData(7, "NaN", "line 8", "params")]
    public void BadCellsExitTwoNamingRowAndColumn(int badRow, string value, string row, string column)
    {
        string path = Table(r => r == badRow ? $"{value},1e9,2.5" : null!);
        var (code, _, err) = CliHarness.Run("scaling-fit", path, "--bootstrap", "2");
        Assert.Equal(2, code);
        Assert.Contains(row, err);
        Assert.Contains(column, err);
    }

    [Fact]
    public void MissingColumnsAndTooFewRowsExitTwo()
    {
        var (code, _, err) = CliHarness.Run("scaling-fit", Table(header: "n,tokens,loss"), "--bootstrap", "2");
        Assert.Equal(2, code);
        Assert.Contains("no column 'params'", err);
        (code, _, err) = CliHarness.Run("scaling-fit", Table(), "--exclude-top", "31", "--bootstrap", "2");
        Assert.Equal(2, code);
        Assert.Contains("--exclude-top 31", err);
    }
}
