using System.Text.RegularExpressions;
using System.Xml.Linq;
using Reference.Tests.Support;

namespace Reference.Deploy.Tests;

/// <summary>
/// The Dockerfile's SDK stage, read against the projects: the stack test here builds from published
/// output (the SDK image cannot be pulled), so these are what keeps the stage a server runs honest.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string> Services => new() { "Gateway", "InventoryApi", "UploadApi", "ImageWorker" };

    private static readonly string[] Lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, "deploy", "Dockerfile"));

    [Theory]
    [MemberData(nameof(Services))]
    public void Every_file_the_build_stage_copies_exists(string service)
    {
        var sources = BuildStage().Select(line => CopySource().Match(line)).Where(m => m.Success)
            .SelectMany(m => m.Groups["sources"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(source => source.Replace("${PROJECT}", service, StringComparison.Ordinal))
            .ToList();

        var built = BuildStage().Where(line => line.StartsWith("RUN dotnet ", StringComparison.Ordinal))
            .SelectMany(line => line.Split(' '))
            .Where(word => word.EndsWith(".csproj", StringComparison.Ordinal))
            .Select(project => project.Replace("${PROJECT}", service, StringComparison.Ordinal));
        sources.AddRange(built);

        Assert.NotEmpty(sources);
        Assert.All(sources, source => Assert.True(
            File.Exists(Path.Combine(RepoPaths.Root, source)) || Directory.Exists(Path.Combine(RepoPaths.Root, source)),
            $"COPY {source}: no such file or folder"));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void The_build_stage_copies_every_project_the_service_references_before_restoring(string service)
    {
        var restore = BuildStage().TakeWhile(line => !line.StartsWith("RUN dotnet restore", StringComparison.Ordinal))
            .Select(line => line.Replace("${PROJECT}", service, StringComparison.Ordinal))
            .ToList();

        foreach (var project in ProjectsOf(Path.Combine(RepoPaths.Root, service, $"Reference.{service}.csproj")))
        {
            var relative = Path.GetRelativePath(RepoPaths.Root, project).Replace('\\', '/');
            Assert.Contains(restore, line => line.StartsWith($"COPY {relative} ", StringComparison.Ordinal));
        }
    }

    private static IEnumerable<string> BuildStage() =>
        Lines.SkipWhile(line => !line.StartsWith("FROM ${SDK_IMAGE} AS build", StringComparison.Ordinal))
            .Skip(1)
            .TakeWhile(line => !line.StartsWith("FROM ", StringComparison.Ordinal));

    /// <summary>The project and every project it references, directly or not.</summary>
    private static IEnumerable<string> ProjectsOf(string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var next))
        {
            if (!seen.Add(next))
            {
                continue;
            }

            foreach (var reference in XDocument.Load(next).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar);
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(next)!, include)));
            }
        }

        return seen;
    }

    [GeneratedRegex("^COPY (?!--from)(?<sources>.+) [^ ]+$")]
    private static partial Regex CopySource();
}
