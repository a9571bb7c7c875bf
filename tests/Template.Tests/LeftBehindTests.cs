using System.IO.Compression;
using Reference.Tests.Support;

namespace Reference.Template.Tests;

/// <summary>
/// What must never reach a new shop: a miniature repository with this one's template and pack
/// project, holding one of everything that must stay behind, made into a shop both ways a user can.
/// </summary>
public sealed class LeftBehindTests : IDisposable
{
    private static readonly string[] StaysBehind =
    [
        ".git/config",
        ".data/mysql/ibdata1",
        "AppHost/bin/Debug/net10.0/AppHost.dll",
        "AppHost/obj/project.assets.json",
        "artifacts/screenshots/grid.png",
        "tests/AppHost.Tests/TestResults/run.trx",
        "deploy/.env",
        "AppHost/Reference.AppHost.csproj.user",
        ".vs/state.json",
        "Gateway/node_modules/left-pad/index.js",
        "tests/AppHost.Tests/.playwright/node/linux-x64/node",
        "tests/corpus/images/kite-2560x1600.jpg",
    ];

    private static readonly string[] Copied =
    [
        ".gitignore",
        "README.md",
        "dev.sh",
        ".ci/run",
        "AppHost/LocalServers/mariadb.sh",
        "AppHost/LocalServers/redis.sh",
        "AppHost/LocalServers/rabbitmq.sh",
        "deploy/.env.example",
        "AppHost/AppHost.cs",
        "tests/corpus/fetch.sh",
        "tests/corpus/corpus.tsv",
        "LICENSE",
    ];

    private readonly string _work = Directory.CreateTempSubdirectory("template-left-behind-").FullName;

    private string Repository => Path.Combine(_work, "repo");

    public LeftBehindTests()
    {
        if (!TemplatePackage.IsTemplateRepository)
        {
            return;
        }

        foreach (var file in new[]
        {
            ".template.config/template.json", ".template.config/dotnetcli.host.json", "template/Reference.Storefront.Templates.csproj",
            "Directory.Build.props", "Directory.Packages.props", "global.json",
        })
        {
            Write(file, File.ReadAllText(Path.Combine(RepoPaths.Root, file)));
        }

        foreach (var file in StaysBehind.Concat(Copied))
        {
            Write(file, "planted by LeftBehindTests\n");
        }
    }

    [SkippableFact]
    public async Task The_package_carries_no_build_output_local_data_test_results_or_secrets()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, "This shop was made from the template: it has no template to test.");

        var packages = Path.Combine(_work, "package");
        (await DotnetCli.RunAsync(Repository, TemplatePackage.CliTimeout,
            "pack", "template/Reference.Storefront.Templates.csproj", "-o", packages, "-nologo")).AssertSucceeded();

        using var package = ZipFile.OpenRead(Directory.GetFiles(packages, "*.nupkg").Single());
        var content = package.Entries
            .Where(e => e.FullName.StartsWith("content/reference-shop/", StringComparison.Ordinal))
            .Select(e => e.FullName["content/reference-shop/".Length..])
            .Order()
            .ToList();
        var expected = Copied
            .Concat([".template.config/template.json", ".template.config/dotnetcli.host.json", "Directory.Build.props", "Directory.Packages.props", "global.json"])
            .Order();
        Assert.Equal(expected, content);

        var shop = await NewShopAsync(Directory.GetFiles(packages, "*.nupkg").Single());
        Assert.Equal(Copied.Concat(["Directory.Build.props", "Directory.Packages.props", "global.json"]).Order(), FilesIn(shop));
    }

    [SkippableFact]
    public async Task Installing_the_folder_copies_no_build_output_local_data_test_results_or_secrets()
    {
        Skip.IfNot(TemplatePackage.IsTemplateRepository, "This shop was made from the template: it has no template to test.");

        var shop = await NewShopAsync(Repository);

        Assert.Equal(Copied.Concat(["Directory.Build.props", "Directory.Packages.props", "global.json"]).Order(), FilesIn(shop));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<string> NewShopAsync(string templateSource)
    {
        var hive = Path.Combine(_work, "hive");
        var shop = Path.Combine(_work, "shop");
        (await DotnetCli.RunAsync(_work, TemplatePackage.CliTimeout, "new", "install", templateSource, "--debug:custom-hive", hive)).AssertSucceeded();
        (await DotnetCli.RunAsync(_work, TemplatePackage.CliTimeout,
            "new", "reference-shop", "-n", "Left.Behind", "-o", shop, "--debug:custom-hive", hive)).AssertSucceeded();
        return shop;
    }

    private static List<string> FilesIn(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(directory, f))
            .Order()
            .ToList();

    private void Write(string relativePath, string text)
    {
        var path = Path.Combine(Repository, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
