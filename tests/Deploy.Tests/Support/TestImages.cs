using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Reference.Tests.Support;

namespace Reference.Deploy.Tests.Support;

/// <summary>
/// The images the compose file needs, made without a registry: a Debian base from debootstrap,
/// stand-ins for the official aspnet, mysql, redis and rabbitmq images from Debian packages, and
/// the four services through deploy/Dockerfile's <c>prebuilt</c> target. Base and stand-ins are
/// tagged by what they are made from, so a second run finds them and builds nothing.
/// </summary>
public sealed class TestImages(PodmanHost podman)
{
    public const string BaseImage = PodmanHost.ImagePrefix + "debian:bookworm";

    public static readonly string ServiceTag = "e2e-" + PodmanHost.CheckoutId;

    private const string ServiceLabel = "org.reference-storefront.test=service";

    /// <summary>The services, by project folder; the image is the lower-case name.</summary>
    public static readonly string[] Services = ["Gateway", "InventoryApi", "UploadApi", "ImageWorker"];

    private static readonly string StandInsDirectory = Path.Combine(RepoPaths.Root, "tests", "Deploy.Tests", "StandIns");

    public async Task EnsureBaseImageAsync(CancellationToken cancellationToken)
    {
        if (await podman.ImageExistsAsync(BaseImage, cancellationToken))
        {
            return;
        }

        var rootfs = Path.Combine(podman.Directory, "rootfs");
        if (Directory.Exists(rootfs))
        {
            Directory.Delete(rootfs, recursive: true);
        }

        try
        {
            // libssl3: .NET's hashing (MySQL authentication) goes through OpenSSL on Linux.
            await podman.Shell.RunAsync("debootstrap",
                ["--variant=minbase", "--include=ca-certificates,libssl3", "bookworm", rootfs, "http://deb.debian.org/debian"],
                cancellationToken);
            await podman.Shell.RunAsync("sh",
                ["-c", $"rm -rf '{rootfs}'/var/cache/apt/archives/*.deb && tar -C '{rootfs}' -c . | podman import - {BaseImage}"],
                cancellationToken);
        }
        finally
        {
            if (Directory.Exists(rootfs))
            {
                Directory.Delete(rootfs, recursive: true);
            }
        }
    }

    /// <summary>The stand-in for mcr.microsoft.com/dotnet/aspnet: this machine's .NET runtime on the base.</summary>
    public Task<string> EnsureRuntimeImageAsync(CancellationToken cancellationToken)
    {
        // .../dotnet/shared/Microsoft.NETCore.App/10.0.x/ -> .../dotnet
        var dotnetRoot = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        return EnsureStandInAsync("aspnet", dotnetRoot, Environment.Version.ToString(), cancellationToken);
    }

    public Task<string> EnsureStandInAsync(string name, CancellationToken cancellationToken) =>
        EnsureStandInAsync(name, StandInsDirectory, "", cancellationToken);

    /// <summary>
    /// The stand-in S3 server: s3rver as AppHost/LocalServers/s3rver.sh installs it into .data/tools (npm on this
    /// machine, the same pinned version), copied into an image with Node.js from the Debian mirror.
    /// </summary>
    public async Task<string> EnsureS3StandInAsync(CancellationToken cancellationToken)
    {
        const string version = "3.7.1";
        var tools = Path.Combine(RepoPaths.Root, ".data", "tools", "s3rver-" + version);
        if (!File.Exists(Path.Combine(tools, "node_modules", "s3rver", "bin", "s3rver.js")))
        {
            await podman.Shell.RunAsync("npm", ["install", "--prefix", tools, "--no-audit", "--no-fund", "--loglevel=error", "s3rver@" + version], cancellationToken);
        }

        return await EnsureStandInAsync("s3rver", tools, version, cancellationToken);
    }

    private static readonly SemaphoreSlim ServiceImagesBuild = new(1, 1);
    private static bool _serviceImagesBuilt;

    /// <summary>The service images, built once per test run: every podman test of this project runs on them.</summary>
    public async Task EnsureServiceImagesAsync(string runtimeImage, CancellationToken cancellationToken)
    {
        await ServiceImagesBuild.WaitAsync(cancellationToken);
        try
        {
            if (!_serviceImagesBuilt)
            {
                await BuildServiceImagesAsync(runtimeImage, cancellationToken);
                _serviceImagesBuilt = true;
            }
        }
        finally
        {
            ServiceImagesBuild.Release();
        }
    }

    /// <summary>Publishes each service on this machine and builds its image from the output.</summary>
    public async Task BuildServiceImagesAsync(string runtimeImage, CancellationToken cancellationToken)
    {
        var publishRoot = Path.Combine(podman.Directory, "publish");
        if (Directory.Exists(publishRoot))
        {
            Directory.Delete(publishRoot, recursive: true);
        }

        foreach (var project in Services)
        {
            // Own artifacts folder: nothing is written into the repository's bin/ and obj/.
            await podman.Shell.RunAsync("dotnet",
                ["publish", Path.Combine(RepoPaths.Root, project, $"Reference.{project}.csproj"), "-c", "Release",
                 "-o", Path.Combine(publishRoot, project), "--artifacts-path", Path.Combine(podman.Directory, "artifacts"),
                 "-p:UseAppHost=false", "-nologo", "-v:q"],
                cancellationToken);
        }

        foreach (var project in Services)
        {
            await podman.Shell.RunAsync("podman",
                ["build", "--format", "docker", "-q", "-f", Path.Combine(RepoPaths.Root, "deploy", "Dockerfile"),
                 "--target", "prebuilt", "--build-arg", "PROJECT=" + project, "--build-arg", "PUBLISH_DIR=" + project,
                 "--build-arg", "RUNTIME_IMAGE=" + runtimeImage, "--label", ServiceLabel, "-t", ServiceImage(project), publishRoot],
                cancellationToken);
        }

        // The previous run's service images, now untagged.
        await podman.Shell.RunAsync("podman", ["image", "prune", "-f", "--filter", "label=" + ServiceLabel], cancellationToken, check: false);
    }

    public static string ServiceImage(string project) => $"{PodmanHost.ImagePrefix}{project.ToLowerInvariant()}:{ServiceTag}";

    private async Task<string> EnsureStandInAsync(string name, string context, string salt, CancellationToken cancellationToken)
    {
        var dockerfile = Path.Combine(StandInsDirectory, name + ".Dockerfile");
        var inputs = Directory.GetFiles(StandInsDirectory, name + "*").Order().Select(File.ReadAllText);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', inputs.Append(salt)))))[..12];
        var image = $"{PodmanHost.ImagePrefix}{name}:{hash}";
        if (!await podman.ImageExistsAsync(image, cancellationToken))
        {
            await podman.Shell.RunAsync("podman",
                ["build", "--format", "docker", "-q", "-f", dockerfile, "--build-arg", "BASE_IMAGE=" + BaseImage, "-t", image, context],
                cancellationToken);
        }

        return image;
    }
}
