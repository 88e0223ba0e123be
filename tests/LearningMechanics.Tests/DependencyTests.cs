using System.Text.RegularExpressions;

namespace LearningMechanics.Tests;

/// <summary>
/// The library's layers (README "Architecture") reference only layers below them: a file in namespace
/// LearningMechanics.X may name LearningMechanics.Y (by a using directive or a qualified name) only when Y's rank is
/// lower than X's, or Y is X itself. Layers of equal rank (Networks and Theory) do not reference each other.
/// </summary>
public partial class DependencyTests
{
    /// <summary>Rank of each top-level namespace, lowest first; the root namespace holds only exceptions and records.</summary>
    public static readonly IReadOnlyDictionary<string, int> Rank = new Dictionary<string, int>
    {
        [""] = 0, ["Numerics"] = 0, ["Data"] = 1, ["Architecture"] = 2, ["Networks"] = 3, ["Theory"] = 3,
        ["Training"] = 4, ["Measurement"] = 5, ["Lab"] = 6, ["Experiments"] = 7, ["Cli"] = 8,
    };

    [GeneratedRegex(@"^namespace LearningMechanics\.?([\w.]*);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^\s*using\s+(?:static\s+)?(?:\w+\s*=\s*)?LearningMechanics\.?([\w.]*)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"(?<![\w.])(?:LearningMechanics\.)?" +
        @"(Numerics|Data|Architecture|Networks|Theory|Training|Measurement|Lab|Experiments|Cli)((?:\.[A-Z]\w*)+)")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"(?:class|record|struct|interface|enum)\s+(?:struct\s+|class\s+)?([A-Z]\w*)")]
    private static partial Regex TypeDeclaration();

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LearningMechanics.slnx"))) return dir.FullName;
        throw new InvalidOperationException("Repository root (LearningMechanics.slnx) not found above the test binaries.");
    }

    private static IEnumerable<string> SourceFiles() =>
        new[] { "src/LearningMechanics", "src/LearningMechanics.Cli" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    private static string Top(string ns) => ns.Split('.')[0];

    /// <summary>Code without comments and string literals (doc comments may cite any layer).</summary>
    private static string CodeOnly(string source) =>
        Regex.Replace(source, @"//[^\n]*|/\*.*?\*/|@?""(?:[^""\\\n]|\\.)*""", "", RegexOptions.Singleline);

    /// <summary>Every (file, referenced namespace) pair that breaks the layering.</summary>
    public static List<string> Violations()
    {
        var files = SourceFiles().Select(f => (Path: f, Text: File.ReadAllText(f))).ToList();
        // Type names declared in each namespace, to tell a qualified type name (Theory.Kernels.Nngp) from a member access.
        var typesByNamespace = files
            .Select(f => (Ns: NamespaceLine().Match(f.Text) is { Success: true } m ? m.Groups[1].Value : null, f.Text))
            .Where(f => f.Ns is not null)
            .GroupBy(f => f.Ns!)
            .ToDictionary(g => g.Key, g => g.SelectMany(f => TypeDeclaration().Matches(f.Text).Select(m => m.Groups[1].Value)).ToHashSet());
        var bad = new List<string>();
        foreach (var (path, text) in files)
        {
            var nsMatch = NamespaceLine().Match(text);
            bool cli = path.Contains($"LearningMechanics.Cli{Path.DirectorySeparatorChar}");
            if (!nsMatch.Success && !cli) { bad.Add($"{path}: no file-scoped namespace"); continue; }
            string own = nsMatch.Success ? nsMatch.Groups[1].Value : "Cli";   // the Cli's top-level statements
            var referenced = UsingLine().Matches(text).Select(m => m.Groups[1].Value).ToList();
            foreach (Match m in QualifiedName().Matches(CodeOnly(text)))
            {
                // Longest namespace prefix of the qualified name that declares the next segment as a type.
                var segments = (m.Groups[1].Value + m.Groups[2].Value).Split('.');
                for (int k = segments.Length - 1; k >= 1; k--)
                {
                    string ns = string.Join(".", segments[..k]);
                    if (typesByNamespace.TryGetValue(ns, out var types) && types.Contains(segments[k])) { referenced.Add(ns); break; }
                }
            }
            string from = Top(own);
            if (!Rank.TryGetValue(from, out int fromRank)) { bad.Add($"{path}: namespace '{own}' has no layer rank"); continue; }
            foreach (var ns in referenced.Distinct())
            {
                string to = Top(ns);
                if (to == from) continue;
                if (!Rank.TryGetValue(to, out int toRank)) bad.Add($"{path}: references unknown layer '{ns}'");
                else if (toRank >= fromRank) bad.Add($"{Path.GetRelativePath(RepositoryRoot(), path)}: {own} → {ns}");
            }
        }
        return bad;
    }

    [Fact]
    public void EveryNamespaceReferencesOnlyLayersBelowIt()
    {
        var bad = Violations();
        Assert.True(bad.Count == 0, "Layering violations (README \"Architecture\"):\n" + string.Join("\n", bad));
    }

    [Fact]
    public void TheCheckSeesAnUpwardReference()
    {
        // The rule itself: a made-up Networks file that names Theory and Lab must be flagged, a Lab file naming Numerics not.
        Assert.True(Rank["Networks"] == Rank["Theory"] && Rank["Lab"] > Rank["Measurement"] && Rank["Numerics"] < Rank["Data"]);
        var refs = UsingLine().Matches("using LearningMechanics.Theory.Kernels;\nusing static LearningMechanics.Lab.Claim;\n")
            .Select(m => Top(m.Groups[1].Value)).ToList();
        Assert.Equal(["Theory", "Lab"], refs);
        var qualified = QualifiedName().Matches(CodeOnly("var k = Theory.Kernels.Nngp.Kernel(x); // Lab.Runner\n x.Data.Length;"))
            .Select(m => m.Value).ToList();
        Assert.Equal(["Theory.Kernels.Nngp.Kernel"], qualified);
    }
}
