using System.Text.RegularExpressions;
using Reference.Tests.Support;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Reference.Deploy.Tests.Support;

/// <summary>
/// <c>deploy/compose.yaml</c> as compose reads it: anchors and merge keys resolved, and
/// <c>${VAR}</c>, <c>${VAR:-default}</c>, <c>${VAR:?message}</c> and <c>$$</c> interpolated from the
/// variables given (as a <c>.env</c> file would give them).
/// </summary>
public sealed partial class ComposeFile
{
    private readonly Dictionary<object, object?> root;

    private ComposeFile(Dictionary<object, object?> root, IReadOnlyDictionary<string, string> variables)
    {
        this.root = root;
        Variables = variables;
        Services = Map(root, "services").ToDictionary(
            entry => (string)entry.Key,
            entry => new ComposeService((string)entry.Key, (Dictionary<object, object?>)entry.Value!, Interpolate));
    }

    public static string DeployDirectory { get; } = Path.Combine(RepoPaths.Root, "deploy");

    public static string FilePath { get; } = Path.Combine(DeployDirectory, "compose.yaml");

    public IReadOnlyDictionary<string, string> Variables { get; }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    public static ComposeFile Load(IReadOnlyDictionary<string, string>? variables = null) => Load(FilePath, variables);

    /// <summary>Another compose file of deploy/ (<paramref name="path"/>), e.g. compose.worker-server.yaml.</summary>
    public static ComposeFile Load(string path, IReadOnlyDictionary<string, string>? variables = null)
    {
        using var reader = File.OpenText(path);
        var root = new DeserializerBuilder().Build()
            .Deserialize<Dictionary<object, object?>>(new MergingParser(new Parser(reader)));
        return new ComposeFile(root, variables ?? new Dictionary<string, string>());
    }

    public IReadOnlyDictionary<string, Dictionary<object, object?>> Networks =>
        Map(root, "networks").ToDictionary(e => (string)e.Key, e => e.Value as Dictionary<object, object?> ?? []);

    public IReadOnlyCollection<string> NamedVolumes => Map(root, "volumes").Keys.Cast<string>().ToList();

    /// <summary>The top-level secrets: name and the file it is read from.</summary>
    public IReadOnlyDictionary<string, string> Secrets =>
        Map(root, "secrets").ToDictionary(e => (string)e.Key, e => Interpolate((string)((Dictionary<object, object?>)e.Value!)["file"]!));

    /// <summary>Variables every <c>${NAME...}</c> in the file refers to.</summary>
    public IReadOnlySet<string> ReferencedVariables =>
        VariablePattern().Matches(File.ReadAllText(FilePath)).Select(m => m.Groups["name"].Value).ToHashSet();

    public string Interpolate(string value) =>
        VariablePattern().Replace(value.Replace("$$", "\u0001"), match =>
        {
            var name = match.Groups["name"].Value;
            var op = match.Groups["op"].Value;
            var argument = match.Groups["arg"].Value;
            var set = Variables.TryGetValue(name, out var variable) && variable.Length > 0;
            return op switch
            {
                ":-" => set ? variable! : argument,
                ":?" => set ? variable! : throw new InvalidOperationException($"{name}: {argument}"),
                _ => variable ?? "",
            };
        }).Replace("\u0001", "$");

    /// <summary>
    /// Runs deploy/make-secrets.sh into a fresh folder where <paramref name="passwords"/> are already
    /// chosen (it keeps a password file it finds); every file it wrote, by name.
    /// </summary>
    public static IReadOnlyDictionary<string, string> MakeSecrets(IReadOnlyDictionary<string, string> passwords)
    {
        var directory = Directory.CreateTempSubdirectory("storefront-secrets-").FullName;
        try
        {
            foreach (var (name, value) in passwords)
            {
                File.WriteAllText(Path.Combine(directory, name), value);
            }

            var start = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(DeployDirectory, "make-secrets.sh"));
            start.ArgumentList.Add(directory);
            using var process = System.Diagnostics.Process.Start(start)!;
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"make-secrets.sh exited {process.ExitCode}: {errors}");
            }

            return Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    internal static Dictionary<object, object?> Map(Dictionary<object, object?> parent, string key) =>
        parent.TryGetValue(key, out var value) && value is Dictionary<object, object?> map ? map : [];

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:[-?])(?<arg>[^}]*))?\}")]
    private static partial Regex VariablePattern();
}

/// <summary>One service of the compose file, values interpolated.</summary>
public sealed class ComposeService(string name, Dictionary<object, object?> raw, Func<string, string> interpolate)
{
    public string Name { get; } = name;

    public string? Image => Scalar("image");

    public int Scale => int.TryParse(Scalar("scale"), out var scale) ? scale : 1;

    public string? Restart => Scalar("restart");

    public string? MemoryLimit => Scalar("mem_limit");

    public bool ReadOnlyRootFilesystem => Scalar("read_only") == "true";

    public string? Hostname => Scalar("hostname");

    public IReadOnlyList<string> Command => List("command");

    public IReadOnlyList<string> Entrypoint => List("entrypoint");

    /// <summary>Secrets mounted into the service as (secret, file name under /run/secrets).</summary>
    public IReadOnlyList<(string Source, string Target)> Secrets =>
        raw.TryGetValue("secrets", out var value) && value is List<object?> list
            ? list.Select(item => item is Dictionary<object, object?> map
                ? ((string)map["source"]!, (string?)map.GetValueOrDefault("target") ?? (string)map["source"]!)
                : ((string)item!, (string)item!)).ToList()
            : [];

    public IReadOnlyList<string> Tmpfs => List("tmpfs");

    public IReadOnlyList<string> Ports => List("ports");

    public IReadOnlyList<string> Networks =>
        raw.TryGetValue("networks", out var value) && value is Dictionary<object, object?> map
            ? map.Keys.Cast<string>().ToList()
            : List("networks");

    /// <summary>Volume mounts as (source, target, read-only).</summary>
    public IReadOnlyList<(string Source, string Target, bool ReadOnly)> Volumes =>
        List("volumes").Select(v => v.Split(':')).Select(p => (p[0], p[1], p.Length > 2 && p[2] == "ro")).ToList();

    public IReadOnlyDictionary<string, string> Environment =>
        ComposeFile.Map(raw, "environment").ToDictionary(e => (string)e.Key, e => interpolate((string?)e.Value ?? ""));

    /// <summary>Services this one waits for, with the condition it waits on.</summary>
    public IReadOnlyDictionary<string, string> DependsOn =>
        ComposeFile.Map(raw, "depends_on").ToDictionary(
            e => (string)e.Key,
            e => (e.Value as Dictionary<object, object?>)?.GetValueOrDefault("condition") as string ?? "service_started");

    public bool HasHealthCheck => raw.ContainsKey("healthcheck");

    private string? Scalar(string key) => raw.TryGetValue(key, out var value) && value is string s ? interpolate(s) : null;

    private IReadOnlyList<string> List(string key) => raw.TryGetValue(key, out var value) && value is List<object?> list
        ? list.Select(item => interpolate(item as string ?? "")).ToList()
        : [];
}
