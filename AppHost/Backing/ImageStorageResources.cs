namespace Reference.AppHost.Backing;

/// <summary>
/// Where the services keep images, as <c>Storage:Kind</c> says: the folder <c>Storage:Root</c> (the default), or
/// with <c>Storage:Kind=S3</c> an S3-compatible server of its own (s3rver, LocalServers/s3rver.sh) on loopback.
/// </summary>
public sealed record ImageStorageResources(string Root, IResourceBuilder<ExecutableResource>? S3Server)
{
    public const string Bucket = "images";

    /// <summary>s3rver's fixed access and secret key; it listens on loopback only.</summary>
    public const string S3rverKey = "S3RVER";
}

public static class ImageStorageSetup
{
    public static ImageStorageResources AddImageStorage(this IDistributedApplicationBuilder builder)
    {
        var root = builder.Configuration["Storage:Root"] ?? Path.Combine(builder.DataDirectory(), "images");
        Directory.CreateDirectory(root);
        if (!string.Equals(builder.Configuration["Storage:Kind"], "S3", StringComparison.OrdinalIgnoreCase))
        {
            return new ImageStorageResources(root, null);
        }

        var script = Path.Combine(builder.AppHostDirectory, "LocalServers", "s3rver.sh");
        var server = builder.AddExecutable("storage", "/bin/sh", builder.AppHostDirectory)
            .WithHttpEndpoint(name: "http", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add(script);
                context.Args.Add(Path.Combine(builder.DataDirectory(), "s3rver"));
                context.Args.Add(((ExecutableResource)context.Resource).GetEndpoint("http").Property(EndpointProperty.TargetPort));
                context.Args.Add(ImageStorageResources.Bucket);
            })
            .WithHttpHealthCheck($"/{ImageStorageResources.Bucket}")
            .ExcludeFromManifest();
        return new ImageStorageResources(root, server);
    }

    /// <summary>The service's <c>Storage:*</c> settings; with S3 it also waits for the server.</summary>
    public static IResourceBuilder<T> WithImageStorage<T>(this IResourceBuilder<T> service, ImageStorageResources storage)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        service.WithEnvironment("Storage__Root", storage.Root);
        if (storage.S3Server is not { } server)
        {
            return service;
        }

        return service
            .WithEnvironment("Storage__Kind", "S3")
            .WithEnvironment("Storage__S3__ServiceUrl", server.GetEndpoint("http"))
            .WithEnvironment("Storage__S3__Bucket", ImageStorageResources.Bucket)
            .WithEnvironment("Storage__S3__AccessKey", ImageStorageResources.S3rverKey)
            .WithEnvironment("Storage__S3__SecretKey", ImageStorageResources.S3rverKey)
            .WaitFor(server);
    }
}
