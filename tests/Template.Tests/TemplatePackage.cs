using Reference.Tests.Support;

namespace Reference.Template.Tests;

/// <summary>
/// What a user gets: this repository packed as the template package, installed into a throwaway
/// template hive (never the machine's own), and two shops made from it, one with every option
/// changed and one with the defaults.
/// </summary>
public sealed class TemplatePackage : IAsyncLifetime
{
    public const string ShopName = "Acme.Shop";
    public const int WorkerReplicas = 3;
    public const int GatewayPort = 9090;

    /// <summary>False in a shop made from the template: it has no template of its own to test.</summary>
    public static bool IsTemplateRepository { get; } =
        File.Exists(Path.Combine(RepoPaths.Root, ".template.config", "template.json"))
        && File.Exists(PackProject);

    public static string PackProject => Path.Combine(RepoPaths.Root, "template", "Reference.Storefront.Templates.csproj");

    public static readonly TimeSpan CliTimeout = TimeSpan.FromMinutes(3);

    private readonly string _work = Directory.CreateTempSubdirectory("template-tests-").FullName;

    public string PackagePath { get; private set; } = "";

    /// <summary>Packing, installing and making both shops.</summary>
    public TimeSpan SetUpTime { get; private set; }

    public string Hive => Path.Combine(_work, "hive");

    /// <summary>dotnet new reference-shop -n Acme.Shop with every option away from its default.</summary>
    public string Shop => Path.Combine(_work, "acme");

    /// <summary>dotnet new reference-shop -n Plain.Shop with the defaults.</summary>
    public string PlainShop => Path.Combine(_work, "plain");

    public async Task InitializeAsync()
    {
        if (!IsTemplateRepository)
        {
            return;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var packages = Path.Combine(_work, "package");
        (await DotnetCli.RunAsync(RepoPaths.Root, CliTimeout, "pack", PackProject, "-o", packages, "-nologo")).AssertSucceeded();
        PackagePath = Directory.GetFiles(packages, "*.nupkg").Single();

        (await DotnetCli.RunAsync(_work, CliTimeout, "new", "install", PackagePath, "--debug:custom-hive", Hive)).AssertSucceeded();
        (await NewAsync(ShopName, Shop,
            "--worker-replicas", WorkerReplicas.ToString(), "--gateway-port", GatewayPort.ToString(),
            "--sample-catalog", "false", "--admin-page", "false")).AssertSucceeded();
        (await NewAsync("Plain.Shop", PlainShop)).AssertSucceeded();
        SetUpTime = clock.Elapsed;
    }

    public Task<CliResult> NewAsync(string name, string output, params string[] options) =>
        DotnetCli.RunAsync(_work, CliTimeout,
            ["new", "reference-shop", "-n", name, "-o", output, .. options, "--debug:custom-hive", Hive]);

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}
