using System.Text.RegularExpressions;

namespace LearningMechanics.Tests;

/// <summary>
/// Citations a reader can look up: the sources, the README and docs/ cite papers by author and year
/// (docs/references.md) and claims by docs/claims.md, never the project's former internal source files ("seed 00x",
/// a bare "claims.md"), which are not in the repository.
/// </summary>
public partial class DocsTests
{
    /// <summary>"seed 004", "seeds 001", "Seed 003", "seed004": the former internal source files.</summary>
    [GeneratedRegex(@"\bseeds?\s?0\d\d\b", RegexOptions.IgnoreCase)]
    private static partial Regex InternalSeed();

    /// <summary>"claims.md" other than the repository's own docs/claims.md.</summary>
    [GeneratedRegex(@"(?<!docs/)\bclaims\.md", RegexOptions.IgnoreCase)]
    private static partial Regex InternalCatalogue();

    /// <summary>An author–year citation: "Neal 1996", "Cho &amp; Saul 2009", "Golub &amp; Van Loan 2013", "Lee et al. 2019".</summary>
    [GeneratedRegex(@"\b\p{Lu}[\p{L}'’-]+(?: & \p{Lu}[\p{L}-]+(?: \p{Lu}[\p{L}-]+)?| et al\.)? (?:19|20)\d\d[a-z]?\b")]
    private static partial Regex Citation();

    /// <summary>A reference entry's key at the start of its list item: "- **Lee et al. 2019** — …".</summary>
    [GeneratedRegex(@"^- \*\*(.+?)\*\* —", RegexOptions.Multiline)]
    private static partial Regex ReferenceKey();

    private static string Root => DependencyTests.RepositoryRoot();

    private static string Relative(string path) => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>Every text file of src/ (without build outputs), README.md and every file of docs/, as repository-relative paths.</summary>
    private static IEnumerable<string> DocumentedFiles()
    {
        var src = Directory.EnumerateFiles(Path.Combine(Root, "src"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));
        var docs = Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*", SearchOption.AllDirectories);
        return src.Concat(docs).Append(Path.Combine(Root, "README.md")).Select(Relative);
    }

    /// <summary>Each line that cites a former internal source file, as "path:line: text".</summary>
    private static IEnumerable<string> InternalCitations(string relative) =>
        File.ReadLines(Path.Combine(Root, relative))
            .Select((line, i) => (Line: line, Number: i + 1))
            .Where(l => InternalSeed().IsMatch(l.Line) || InternalCatalogue().IsMatch(l.Line))
            .Select(l => $"{relative}:{l.Number}: {l.Line.Trim()}");

    [Fact]
    public void NoCitationOfInternalSourceFiles()
    {
        var offending = DocumentedFiles().SelectMany(InternalCitations).ToList();
        Assert.True(offending.Count == 0,
            "Cite papers by author and year (docs/references.md) and claims by docs/claims.md, not:\n" + string.Join("\n", offending));
    }

    [Fact]
    public void InternalCitationPatternsRecogniseWhatTheyMustAndNothingElse()
    {
        Assert.Matches(InternalSeed(), "(seed 004 eq. 5.110)");
        Assert.Matches(InternalSeed(), "Seed 001 §2.2");
        Assert.Matches(InternalSeed(), "seeds 000–003");
        Assert.DoesNotMatch(InternalSeed(), "--seed 42");
        Assert.Matches(InternalCatalogue(), "(`claims.md` A1)");
        Assert.DoesNotMatch(InternalCatalogue(), "see docs/claims.md, gp-limit");
        Assert.DoesNotMatch(InternalCatalogue(), "[docs/claims.md](../docs/claims.md#gp-limit)");
        Assert.Equal(new[] { "Golub & Van Loan 2013", "Lee et al. 2019", "Neal 1996" },
            Citation().Matches("(Golub & Van Loan 2013, §10.1; Lee et al. 2019; Neal 1996) at width 2048").Select(m => m.Value));
    }

    /// <summary>The keys of docs/references.md.</summary>
    private static HashSet<string> ReferenceKeys() =>
        ReferenceKey().Matches(File.ReadAllText(Path.Combine(Root, "docs", "references.md"))).Select(m => m.Groups[1].Value).ToHashSet();

    [Theory]
    [InlineData("docs/claims.md")]
    [InlineData("README.md")]
    public void EveryCitationHasAReference(string document)
    {
        var keys = ReferenceKeys();
        Assert.Contains("Roberts & Yaida 2022", keys);
        // Line breaks inside a citation ("Hanin\n& Nica 2020") are joined before matching.
        string text = Regex.Replace(File.ReadAllText(Path.Combine(Root, document)), @"\s+", " ");
        var cited = Citation().Matches(text).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(cited);
        var missing = cited.Where(c => !keys.Contains(c)).ToList();
        Assert.True(missing.Count == 0, $"{document} cites works that docs/references.md does not list: {string.Join("; ", missing)}");
    }
}
