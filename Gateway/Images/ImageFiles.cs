using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Reference.Contracts;
using Reference.Gateway.Proxy;

namespace Microsoft.Extensions.Hosting;

public static class ImageFiles
{
    /// <summary>
    /// Only what the worker writes: any other file that lands under the variants folder (an HTML or
    /// SVG page a browser would run as this origin) is 404, never served with a type of its own.
    /// </summary>
    private static readonly FileExtensionContentTypeProvider VariantContentTypes = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".jpg"] = "image/jpeg",
        [".png"] = "image/png",
        [".webp"] = "image/webp",
    });

    /// <summary>
    /// <c>/images/{uploadId}/{variant}.{ext}</c> straight from <c>Storage:Root/variants</c>. The
    /// provider's root is the variants folder, so originals (which may carry GPS EXIF) cannot be
    /// named at all; <see cref="PhysicalFileProvider"/> refuses <c>..</c> and rooted paths, and
    /// nothing lists directories.
    /// </summary>
    public static WebApplication MapImages(this WebApplication app)
    {
        var storageRoot = app.Configuration.GetSection(ImageStorage.Section).Get<ImageStorage>()?.Root;
        if (string.IsNullOrWhiteSpace(storageRoot))
        {
            throw new InvalidOperationException("Storage:Root is not configured; the gateway serves /images from Storage:Root/variants.");
        }

        var variants = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(storageRoot), ImageStorage.VariantsFolder)).FullName;
        var files = new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(variants, ExclusionFilters.Sensitive),
            ContentTypeProvider = VariantContentTypes,
            ServeUnknownFileTypes = false,
            OnPrepareResponse = file =>
                // Keys contain the upload id, so a key's bytes never change: cache for a year.
                file.Context.Response.Headers.CacheControl = "public, max-age=31536000, immutable",
        };

        app.Map("/images", images =>
        {
            images.UseStaticFiles(files);
            images.Run(context => ProxyErrorResponses.WriteProblemAsync(context, StatusCodes.Status404NotFound, "No such image", null));
        });
        return app;
    }

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
