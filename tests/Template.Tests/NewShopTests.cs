using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Reference.Template.Tests;

/// <summary>
/// dotnet new reference-shop -n Acme.Shop --worker-replicas 3 --gateway-port 9090
/// --sample-catalog false --admin-page false, from the packed template.
/// </summary>
public sealed partial class NewShopTests(TemplatePackage template, ITestOutputHelper output) : IClassFixture<TemplatePackage>
{
    private const string NotTheTemplate = "This shop was made from the template: it has no template to test.";

    private string Shop => template.Shop;

    private string Read(string relativePath) => File.ReadAllText(Path.Combine(Shop, relativePath));

    private static IEnumerable<string> TextFiles(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is ".cs" or ".csproj" or ".props" or ".sln" or ".json" or ".md" or ".html" or ".js"
                or ".sh" or ".yaml" or ".http" or ".example" or "");

    [SkippableFact]
    public void The_solution_namespaces_pages_and_docs_take_the_shop_name()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        Assert.True(File.Exists(Path.Combine(Shop, "Acme.Shop.sln")));
        // Project files say whose shop it is, as `dotnet new aspire-starter` names them; folders say what each part is.
        foreach (var project in new[] { "AppHost", "Gateway", "UploadApi", "ImageWorker", "InventoryApi", "ServiceDefaults", "Contracts" })
        {
            Assert.True(File.Exists(Path.Combine(Shop, project, $"Acme.Shop.{project}.csproj")), project);
            Assert.Contains($"= \"Acme.Shop.{project}\", \"{project}\\Acme.Shop.{project}.csproj\"", Read("Acme.Shop.sln"));
        }

        Assert.True(File.Exists(Path.Combine(Shop, "tests", "Gateway.Tests", "Acme.Shop.Gateway.Tests.csproj")));
        Assert.Contains("Projects.Acme_Shop_AppHost", Read("tests/StorefrontTesting/StorefrontFixture.cs"));
        Assert.Empty(Directory.GetFiles(Shop, "Reference*", SearchOption.AllDirectories));
        Assert.Contains("<RootNamespace>Acme.Shop.AppHost</RootNamespace>", Read("AppHost/Acme.Shop.AppHost.csproj"));
        Assert.Contains("namespace Acme.Shop.InventoryApi", Read("InventoryApi/InventoryOptions.cs"));
        Assert.Contains("using Acme.Shop.AppHost.Backing;", Read("AppHost/AppHost.cs"));
        Assert.StartsWith("# Acme.Shop\n", Read("README.md"));
        Assert.Contains("<title>Acme.Shop</title>", Read("Gateway/wwwroot/index.html"));

        var leftovers = TextFiles(Shop)
            .SelectMany(file => OldName().Matches(File.ReadAllText(file)).Select(m => $"{Path.GetRelativePath(Shop, file)}: {m.Value}"))
            .ToList();
        Assert.Empty(leftovers);
    }

    [SkippableFact]
    public void Its_secrets_and_volumes_are_its_own()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        // Two shops on one machine must not share user secrets or container volumes. (Migration locks
        // are named after the database they guard, which two shops only share if they share the data.)
        Assert.Contains("<UserSecretsId>acme-shop-", Read("AppHost/Acme.Shop.AppHost.csproj"));
        Assert.Contains("\"acme-shop-mysql-data\"", Read("AppHost/Backing/BackingServiceSetup.Containers.cs"));
        Assert.DoesNotContain("\"reference-", string.Concat(TextFiles(Shop).Select(File.ReadAllText)));
    }

    [SkippableFact]
    public void Words_that_merely_contain_the_old_name_are_left_alone()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        var appHost = Read("AppHost/AppHost.cs");
        Assert.Contains(".WithReference(backing.InventoryDb)", appHost);
        Assert.Contains("ReferenceExpression", Read("AppHost/Backing/LocalServerResource.cs"));
        Assert.Contains("<ProjectReference Include=", Read("AppHost/Acme.Shop.AppHost.csproj"));
        Assert.Contains("<PackageReference Include=", Read("AppHost/Acme.Shop.AppHost.csproj"));
        // The new name only ever starts a word: no identifier ending in the old name was rewritten.
        var glued = TextFiles(Shop)
            .SelectMany(file => GluedNewName().Matches(File.ReadAllText(file)).Select(m => $"{Path.GetRelativePath(Shop, file)}: {m.Value}"))
            .ToList();
        Assert.Empty(glued);
    }

    [SkippableFact]
    public void Worker_replicas_and_gateway_port_reach_the_AppHost_compose_and_README()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        var appHost = Read("AppHost/AppHost.cs");
        // The fixed pool's size (Scaling:Enabled=false) lives with the elastic one.
        Assert.Contains($"ReplicaCount(\"ImageWorker\", {TemplatePackage.WorkerReplicas})", Read("AppHost/Scaling/WorkerPool.cs"));
        Assert.Contains($"GetValue(\"Gateway:Port\", {TemplatePackage.GatewayPort})", appHost);
        Assert.Contains($"IMAGEWORKER_REPLICAS:-{TemplatePackage.WorkerReplicas}", Read("deploy/compose.yaml"));
        var readme = Read("README.md");
        Assert.Contains($"http://localhost:{TemplatePackage.GatewayPort}", readme);
        Assert.DoesNotContain("localhost:8080", readme);
    }

    [SkippableFact]
    public void Without_the_admin_page_nothing_serves_or_links_to_it()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        Assert.False(File.Exists(Path.Combine(Shop, "Gateway/wwwroot/admin.html")));
        Assert.False(File.Exists(Path.Combine(Shop, "Gateway/wwwroot/js/admin.js")));
        foreach (var page in Directory.GetFiles(Path.Combine(Shop, "Gateway/wwwroot"), "*.html"))
        {
            Assert.DoesNotContain("admin.html", File.ReadAllText(page));
        }

        Assert.DoesNotContain("admin.html", Read("Gateway/wwwroot/js/site-header.js"));
        Assert.DoesNotContain("/admin.html", Read("tests/Gateway.Tests/StorefrontTests.cs"));
    }

    [SkippableFact]
    public void Without_the_sample_catalogue_an_empty_database_stays_empty()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        Assert.Contains("SeedDemoCatalog { get; set; } = false;", Read("InventoryApi/InventoryOptions.cs"));
        Assert.Contains("GetValue(SeedDemoCatalogKey, false)", Read("InventoryApi/Infrastructure/DatabaseInitializer.cs"));
        // The demo catalogue's code stays: its tests turn it on explicitly.
        Assert.True(File.Exists(Path.Combine(Shop, "InventoryApi/Infrastructure/DemoCatalog.cs")));
    }

    [SkippableFact]
    public void The_defaults_keep_this_shops_choices()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        var plain = template.PlainShop;
        Assert.True(File.Exists(Path.Combine(plain, "Plain.Shop.sln")));
        Assert.True(File.Exists(Path.Combine(plain, "Gateway/wwwroot/admin.html")));
        Assert.True(File.Exists(Path.Combine(plain, "Gateway/wwwroot/js/admin.js")));
        Assert.Contains("['/admin.html', 'Admin']", File.ReadAllText(Path.Combine(plain, "Gateway/wwwroot/js/site-header.js")));
        var appHost = File.ReadAllText(Path.Combine(plain, "AppHost/AppHost.cs"));
        Assert.Contains("ReplicaCount(\"ImageWorker\", 2)", File.ReadAllText(Path.Combine(plain, "AppHost/Scaling/WorkerPool.cs")));
        Assert.Contains("GetValue(\"Gateway:Port\", 8080)", appHost);
        Assert.Contains("SeedDemoCatalog { get; set; } = true;", File.ReadAllText(Path.Combine(plain, "InventoryApi/InventoryOptions.cs")));
        Assert.Contains("namespace Plain.Shop.Gateway", File.ReadAllText(Path.Combine(plain, "Gateway/GatewayOptions.cs")));
    }

    [SkippableFact]
    [UnsupportedOSPlatform("windows")]
    public void The_new_shop_has_no_template_of_its_own_and_its_scripts_run()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        Assert.False(Directory.Exists(Path.Combine(Shop, ".template.config")));
        Assert.False(Directory.Exists(Path.Combine(Shop, "template")));
        Assert.DoesNotContain("Start your own shop", Read("README.md"));
        // The package format keeps no file modes: the template's post-action sets them.
        foreach (var script in new[] { "dev.sh", ".ci/run" })
        {
            Assert.True(File.GetUnixFileMode(Path.Combine(Shop, script)).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
        }
    }

    [SkippableFact]
    public async Task The_new_shop_builds_with_warnings_as_errors_and_passes_its_unit_tests()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, NotTheTemplate);

        output.WriteLine($"Packed the template, installed it and made two shops in {template.SetUpTime:m\\:ss}");
        var clock = Stopwatch.StartNew();
        (await DotnetCli.RunAsync(Shop, TimeSpan.FromMinutes(10),
            "build", "Acme.Shop.sln", "-warnaserror", "-nologo", "-v:q", "-p:UseSharedCompilation=false")).AssertSucceeded();
        output.WriteLine($"Built Acme.Shop.sln in {clock.Elapsed:m\\:ss}");

        // The tests that need no servers; the full suite starts MariaDB, Redis, RabbitMQ and a
        // browser, and is this repository's own suite under another name (see the README).
        await AssertTestsPassAsync("tests/Gateway.Tests/Acme.Shop.Gateway.Tests.csproj");
        await AssertTestsPassAsync("tests/AppHost.Tests/Acme.Shop.AppHost.Tests.csproj", "--filter", "FullyQualifiedName~BackingModeTests");
    }

    private async Task AssertTestsPassAsync(string project, params string[] filter)
    {
        var clock = Stopwatch.StartNew();
        var run = await DotnetCli.RunAsync(Shop, TimeSpan.FromMinutes(5), ["test", project, "--no-build", "-nologo", .. filter]);
        output.WriteLine($"Ran {project} in {clock.Elapsed:m\\:ss}");
        run.AssertSucceeded();
        var summary = TestSummary().Match(run.Output);
        Assert.True(summary.Success, $"no test summary in:\n{run.Output}");
        Assert.Equal("0", summary.Groups["failed"].Value);
        Assert.NotEqual("0", summary.Groups["passed"].Value);
    }

    /// <summary>The old name where it names this shop: a namespace, the solution, the title.</summary>
    [GeneratedRegex(@"(?<![A-Za-z0-9_])Reference(\.|\s+Storefront)")]
    private static partial Regex OldName();

    [GeneratedRegex(@"[A-Za-z0-9_]Acme\.Shop")]
    private static partial Regex GluedNewName();

    [GeneratedRegex(@"Passed!\s+-\s+Failed:\s+(?<failed>\d+),\s+Passed:\s+(?<passed>\d+)")]
    private static partial Regex TestSummary();
}
