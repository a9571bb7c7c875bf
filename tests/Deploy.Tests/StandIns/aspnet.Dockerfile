# Stand-in for mcr.microsoft.com/dotnet/aspnet:10.0 where no registry is reachable: the host's
# .NET runtime (not the SDK) on the Debian base, with the official image's user and settings.
# Build context: the host's dotnet folder (/usr/share/dotnet).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY dotnet /usr/share/dotnet/dotnet
COPY host /usr/share/dotnet/host
COPY shared /usr/share/dotnet/shared
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
    && groupadd --gid 1654 app && useradd --uid 1654 --gid app --create-home app
ENV APP_UID=1654 \
    ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_RUNNING_IN_CONTAINER=true
