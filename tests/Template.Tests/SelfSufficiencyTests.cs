using System.Diagnostics;
using System.Text.RegularExpressions;
using Reference.Tests.Support;

namespace Reference.Template.Tests;

/// <summary>
/// A clone is all a newcomer, CI or a new shop has: nothing the tests, benchmarks, docs or scripts
/// use may live beside or above the repository.
/// </summary>
public sealed partial class SelfSufficiencyTests
{
    private static readonly string[] Checked = ["tests", "bench", "docs", "dev.sh", ".ci"];

    [Fact]
    public void Nothing_under_tests_bench_docs_or_the_scripts_refers_to_a_path_outside_the_repository()
    {
        var offences = new List<string>();
        foreach (var file in TrackedFiles(Checked))
        {
            var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, file));
            for (var n = 0; n < lines.Length; n++)
            {
                offences.AddRange(Outside(file, lines[n]).Select(what => $"{file}:{n + 1}: {what}"));
            }
        }

        Assert.True(offences.Count == 0, "Paths outside the repository:\n" + string.Join('\n', offences));
    }

    // The examples are split so that this file does not itself contain what it looks for.
    [Theory]
    [InlineData("tests/TestSupport/Corpus.cs", "var dir = Path.Combine(RepoPaths.Root, \"..\", \"shared\", \"corpus\");")]
    [InlineData("bench/README.md", "every image of `../" + "shared/corpus/images`")]
    [InlineData("dev.sh", "cp -r ../../elsewhere/photos tests/")]
    [InlineData("docs/operations.md", "see /wo" + "rk/sha" + "red/notes/containers.md")]
    public void The_check_catches_each_way_of_leaving(string file, string line) =>
        Assert.NotEmpty(Outside(file, line));

    [Theory]
    [InlineData("tests/Gateway.Tests/Reference.Gateway.Tests.csproj", """<ProjectReference Include="..\..\Gateway\Reference.Gateway.csproj" />""")]
    [InlineData("dev.sh", "cd \"$(dirname \"$0\")/..\"")]
    [InlineData("docs/performance.md", "see [the deploy guide](../docs/deploy-vds.md) and ../README.md")]
    public void Paths_that_stay_inside_pass(string file, string line) =>
        Assert.Empty(Outside(file, line));

    [Fact]
    public void The_repository_has_a_licence_and_the_photos_theirs()
    {
        Assert.Contains("MIT License", File.ReadAllText(Path.Combine(RepoPaths.Root, "LICENSE")));
        var notices = File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "corpus", "LICENSES.md"));
        foreach (var line in File.ReadLines(Path.Combine(RepoPaths.Root, "tests", "corpus", "corpus.tsv")).Where(l => !l.StartsWith('#')))
        {
            Assert.Contains(line.Split('\t')[0], notices);
        }
    }

    /// <summary>What in one line points outside: a relative path climbing above the root, or a known outside folder.</summary>
    private static IEnumerable<string> Outside(string file, string line)
    {
        foreach (Match match in KnownOutside().Matches(line))
        {
            yield return match.Value;
        }

        var folder = Path.GetDirectoryName(file) ?? "";
        foreach (Match match in RelativePath().Matches(line))
        {
            var climbs = Regex.Matches(match.Value, @"\.\.[/\\]").Count;
            // Relative to the file's own folder (links, project references): outside when it climbs past the root.
            var depth = folder.Length == 0 ? 0 : folder.Split('/').Length;
            if (climbs > depth)
            {
                yield return match.Value;
            }
        }
    }

    private static IEnumerable<string> TrackedFiles(string[] paths)
    {
        var git = Process.Start(new ProcessStartInfo("git", ["ls-files", "-z", "--", .. paths])
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
        })!;
        var listed = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.Equal(0, git.ExitCode);
        return listed.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => !f.EndsWith(".json", StringComparison.Ordinal) || !f.StartsWith("bench/results/", StringComparison.Ordinal))
            .Where(f => IsText(Path.Combine(RepoPaths.Root, f)));
    }

    private static bool IsText(string path)
    {
        var head = new byte[Math.Min(8000, new FileInfo(path).Length)];
        using var stream = File.OpenRead(path);
        stream.ReadExactly(head);
        return !head.Contains((byte)0);
    }

    [GeneratedRegex(@"(\.\.[/\\])+[\w.\-]+")]
    private static partial Regex RelativePath();

    [GeneratedRegex(@"\.\./shared\b|""shared""\s*,\s*""(corpus|notes)""|/work/\w+|/shared/(corpus|notes)\b")]
    private static partial Regex KnownOutside();
}
