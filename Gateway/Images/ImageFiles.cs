using System.Buffers;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Reference.Contracts;
using Reference.Storage;
using Reference.Gateway.Images;
using Reference.Gateway.Proxy;

namespace Microsoft.Extensions.Hosting;

public static class ImageFiles
{
    /// <summary>
    /// Only what the worker writes: any other file that lands under the variants folder (an HTML or
    /// SVG page a browser would run as this origin) is 404, never served with a type of its own.
    /// </summary>
    /// <summary>Keys contain the upload id, so a key's bytes never change: cache for a year.</summary>
    private const string ImmutableCaching = "public, max-age=31536000, immutable";

    /// <summary>Objects up to this size (every variant the worker makes) are read whole from the bucket before they are sent.</summary>
    private const long WholeObjectBytes = 4 * 1024 * 1024;

    /// <summary>An HttpContext item: a WebP browser asked for a variant whose copy is not made yet.</summary>
    private const string WebpCopyMissing = "images.webp-copy-missing";

    private static readonly FileExtensionContentTypeProvider VariantContentTypes = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".jpg"] = "image/jpeg",
        [".png"] = "image/png",
        [".webp"] = "image/webp",
    });

    /// <summary>
    /// <c>/images/{uploadId}/{variant}.{ext}</c>: from the variants folder (<c>Storage:Kind=Local</c>), from the
    /// bucket (<c>S3</c>), or as a redirect to <c>Storage:PublicBaseUrl</c> when the variants are public elsewhere.
    /// Originals (which may carry GPS EXIF) cannot be named at all.
    /// </summary>
    public static WebApplication MapImages(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<IOptions<ImageStoreSettings>>().Value;
        if (!string.IsNullOrWhiteSpace(settings.PublicBaseUrl))
        {
            var publicBase = settings.PublicBaseUrl.TrimEnd('/');
            app.Map("/images", images => images.Run(context => VariantName(context) is { } name
                ? RedirectAsync(context, $"{publicBase}/{name}")
                : NoSuchImageAsync(context)));
        }
        else if (settings.StoreKind == StorageKind.Local)
        {
            MapFolder(app, settings.Root);
        }
        else
        {
            var store = app.Services.GetRequiredService<IImageStore>();
            app.Map("/images", images => images.Run(context => ServeFromStoreAsync(context, store)));
        }

        return app;
    }

    /// <summary>
    /// Straight from <c>Storage:Root/variants</c> by the static files middleware (the fast path, benchmarked).
    /// The provider's root is the variants folder; <see cref="PhysicalFileProvider"/> refuses <c>..</c> and
    /// rooted paths, and nothing lists directories.
    /// </summary>
    private static void MapFolder(WebApplication app, string storageRoot)
    {
        var variants = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(storageRoot), ImageStorage.VariantsFolder)).FullName;
        var files = new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(variants, ExclusionFilters.Sensitive),
            ContentTypeProvider = VariantContentTypes,
            ServeUnknownFileTypes = false,
            OnPrepareResponse = file =>
            {
                file.Context.Response.Headers.CacheControl = file.Context.Items.ContainsKey(WebpCopyMissing)
                    ? WebpNegotiation.UntilCopyExistsCaching
                    : ImmutableCaching;
                file.Context.Response.Headers.Vary = HeaderNames.Accept;
            },
        };

        app.Map("/images", images =>
        {
            // The WebP copy, when it exists, is served under the variant's own URL (a path rewrite before the static files).
            images.Use((context, next) =>
            {
                if (VariantName(context) is { } name && WebpNegotiation.CopyFor(context.Request, name) is { } copy)
                {
                    if (files.FileProvider.GetFileInfo(copy).Exists)
                    {
                        context.Request.Path = "/" + copy;
                    }
                    else
                    {
                        context.Items[WebpCopyMissing] = true;
                    }
                }

                return next(context);
            });
            images.UseStaticFiles(files);
            images.Run(NoSuchImageAsync);
        });
    }

    /// <summary>From the bucket, with the same headers as the folder's: its ETag (If-None-Match answers 304), Last-Modified, immutable caching.</summary>
    private static async Task ServeFromStoreAsync(HttpContext context, IImageStore store)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
            || VariantName(context) is not { } name
            || !VariantContentTypes.TryGetContentType(name, out var contentType))
        {
            await NoSuchImageAsync(context);
            return;
        }

        var copy = WebpNegotiation.CopyFor(context.Request, name);
        await using var webp = copy is null ? null : await store.GetAsync($"{ImageStorage.VariantsFolder}/{copy}", context.RequestAborted);
        await using var variant = webp is null ? await store.GetAsync($"{ImageStorage.VariantsFolder}/{name}", context.RequestAborted) : null;
        var stored = webp ?? variant;
        if (stored is null)
        {
            await NoSuchImageAsync(context);
            return;
        }

        var caching = copy is not null && webp is null ? WebpNegotiation.UntilCopyExistsCaching : ImmutableCaching;
        var type = webp is null ? contentType : "image/webp";
        var entityTag = EntityTagHeaderValue.Parse(stored.EntityTag);
        if (HttpMethods.IsGet(context.Request.Method) && stored.Length <= WholeObjectBytes)
        {
            await ServeWholeAsync(context, stored, caching, type, entityTag);
            return;
        }

        SetVariantHeaders(context, caching);
        // The bucket's stream cannot seek, so the result would not know the length: without it the answer is chunked.
        context.Response.ContentLength = stored.Length;
        await TypedResults.Stream(stored.Content, type, lastModified: stored.LastModified, entityTag: entityTag).ExecuteAsync(context);
    }

    private static void SetVariantHeaders(HttpContext context, string caching)
    {
        context.Response.Headers.CacheControl = caching;
        context.Response.Headers.Vary = HeaderNames.Accept;
    }

    /// <summary>
    /// Reads the object whole before the status line goes out: a bucket that goes away mid-object (a restart, a
    /// network cut) then answers 503, never a 200 cut short that a client may keep as the image.
    /// </summary>
    private static async Task ServeWholeAsync(HttpContext context, StoredObject stored, string caching, string type, EntityTagHeaderValue entityTag)
    {
        var length = (int)stored.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            try
            {
                await stored.Content.ReadExactlyAsync(buffer.AsMemory(0, length), context.RequestAborted);
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !context.RequestAborted.IsCancellationRequested)
            {
                context.Response.Headers.RetryAfter = "5";
                await ProxyErrorResponses.WriteProblemAsync(context, StatusCodes.Status503ServiceUnavailable,
                    "The image storage broke off while the image was read", detail: null);
                return;
            }

            SetVariantHeaders(context, caching);
            await TypedResults.Bytes(buffer.AsMemory(0, length), type, lastModified: stored.LastModified, entityTag: entityTag).ExecuteAsync(context);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary><c>{uploadId}/{variant}.{ext}</c> when the path is exactly that with a variant's extension; null for anything else.</summary>
    private static string? VariantName(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var parts = path.Split('/');
        return parts is ["", var id, var file]
            && Guid.TryParseExact(id, "D", out _)
            && file.Length <= 64 && file.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            && !file.StartsWith('.')
            && VariantContentTypes.TryGetContentType(file, out _)
                ? $"{id}/{file}"
                : null;
    }

    private static Task RedirectAsync(HttpContext context, string location)
    {
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    private static Task NoSuchImageAsync(HttpContext context) =>
        ProxyErrorResponses.WriteProblemAsync(context, StatusCodes.Status404NotFound, "No such image", null);

    /// <summary>The storefront pages from wwwroot; always revalidated (ETag) since names carry no version.</summary>
    public static WebApplication UseStorefront(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "no-cache",
        });
        return app;
    }
}
