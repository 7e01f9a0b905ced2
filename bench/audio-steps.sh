#!/usr/bin/env bash
# The 30 s showcase's soundtrack steps, one process each, timed with /usr/bin/time (wall, user, sys seconds).
# The argv are those the worker's builders (worker/Media/Soundtrack.cs) make for the showcase's plan
# (4 beats: 0/6/15/24 s, cinematic, narrator, -14 LUFS), generated from this commit's builders.
# "old bed" is the bed as it was before issue 11's split (aevalsrc over 30 s of 48 kHz stereo), for comparison.
# Usage: bench/audio-steps.sh [runs]   (default 3; prints the median of each step)
set -euo pipefail
RUNS=${1:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
declare -A WALL USER
run() {
  local name=$1; shift
  local t
  /usr/bin/time -o "$W/time" -f "%e %U %S" "$@" >/dev/null 2>&1
  t=$(tail -1 "$W/time")
  WALL[$name]+="$(echo "$t" | cut -d' ' -f1) "
  USER[$name]+="$(echo "$t" | awk '{print $2+$3}') "
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
OLD_EXPR=$(cat <<'EXPR'
0.12*(0.35+0.65*exp(-0.8*mod(t\,0.75)))*(sin(2*PI*146.83*pow(2\,if(eq(mod(floor(t/3)\,4)\,0)\,0\,if(eq(mod(floor(t/3)\,4)\,1)\,-3\,if(eq(mod(floor(t/3)\,4)\,2)\,5\,7)))/12)*t)+0.6*sin(2*PI*146.83*pow(2\,if(eq(mod(floor(t/3)\,4)\,0)\,0\,if(eq(mod(floor(t/3)\,4)\,1)\,-3\,if(eq(mod(floor(t/3)\,4)\,2)\,5\,7)))/12)*1.259921*t)+0.5*sin(2*PI*146.83*pow(2\,if(eq(mod(floor(t/3)\,4)\,0)\,0\,if(eq(mod(floor(t/3)\,4)\,1)\,-3\,if(eq(mod(floor(t/3)\,4)\,2)\,5\,7)))/12)*1.498307*t)+0.3*sin(PI*146.83*pow(2\,if(eq(mod(floor(t/3)\,4)\,0)\,0\,if(eq(mod(floor(t/3)\,4)\,1)\,-3\,if(eq(mod(floor(t/3)\,4)\,2)\,5\,7)))/12)*t))+0.25*sin(2*PI*55*mod(t\,0.75))*exp(-18*mod(t\,0.75))
EXPR
)
for r in $(seq "$RUNS"); do
  run espeak-0 'espeak-ng' '-v' 'en-us+m3' '-s' '165' '-w' "$W"'/line-0.wav' 'Introducing the titanium smartwatch.'
  run espeak-1 'espeak-ng' '-v' 'en-us+m3' '-s' '165' '-w' "$W"'/line-1.wav' 'Crafted in every detail.'
  run espeak-2 'espeak-ng' '-v' 'en-us+m3' '-s' '165' '-w' "$W"'/line-2.wav' 'Made for every day.'
  run espeak-3 'espeak-ng' '-v' 'en-us+m3' '-s' '165' '-w' "$W"'/line-3.wav' 'Discover it today. Get yours today.'
  run voice-track 'ffmpeg' '-hide_banner' '-nostdin' '-y' '-i' "$W"'/line-0.wav' '-i' "$W"'/line-1.wav' '-i' "$W"'/line-2.wav' '-i' "$W"'/line-3.wav' '-filter_complex' '[0:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono,atempo=1,atrim=end=5.85,afade=t=out:st=5.82:d=0.03,adelay=0:all=1[v0];[1:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono,atempo=1,atrim=end=8.85,afade=t=out:st=8.82:d=0.03,adelay=6000:all=1[v1];[2:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono,atempo=1,atrim=end=8.85,afade=t=out:st=8.82:d=0.03,adelay=15000:all=1[v2];[3:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono,atempo=1,atrim=end=5.85,afade=t=out:st=5.82:d=0.03,adelay=24000:all=1[v3];[v0][v1][v2][v3]amix=inputs=4:normalize=0:duration=longest,apad=whole_dur=30,atrim=end=30[voice]' '-map' '[voice]' '-ar' '48000' '-c:a' 'pcm_s16le' "$W"'/voice.wav'
  run music-bed 'ffmpeg' '-hide_banner' '-nostdin' '-y' '-f' 'lavfi' '-i' 'aevalsrc='\''0.12*(0.35+0.65*exp(-0.8*mod(t\,0.75)))*(sin(2*PI*146.83*pow(2\,if(eq(mod(floor(t/3)\,4)\,0)\,0\,if(eq(mod(floor(t/3)\,4)\,1)\,-3\,if(eq(mod(floor(t/3)\,4)\,2)\,5\,7)))/12)*t)+0.6*sin(2*PI*146.83*pow(2\,if(eq(mod(floor(t/3)\,4)\,0)\,0\,if(eq(mod(floor(t/3)\,4)\,1)\,-3\,if(eq(mod(floor(t/3)\,4)\,2)\,5\,7)))/12)*1.259921*t)+0.5*sin(2*PI*146.83*pow(2\,if(eq(mod(floor(t/3)\,4)\,0)\,0\,if(eq(mod(floor(t/3)\,4)\,1)\,-3\,if(eq(mod(floor(t/3)\,4)\,2)\,5\,7)))/12)*1.498307*t)+0.3*sin(PI*146.83*pow(2\,if(eq(mod(floor(t/3)\,4)\,0)\,0\,if(eq(mod(floor(t/3)\,4)\,1)\,-3\,if(eq(mod(floor(t/3)\,4)\,2)\,5\,7)))/12)*t))+0.25*sin(2*PI*55*mod(t\,0.75))*exp(-18*mod(t\,0.75))'\'':s=24000:c=mono:d=12' '-af' 'aloop=loop=-1:size=288000,atrim=end=30,lowpass=f=5000,afade=t=in:st=0:d=1,afade=t=out:st=28:d=2,aresample=48000,aformat=sample_fmts=s16:channel_layouts=stereo' '-c:a' 'pcm_s16le' "$W"'/music.wav'
  run premix+measure 'ffmpeg' '-hide_banner' '-nostdin' '-y' '-i' "$W"'/voice.wav' '-i' "$W"'/music.wav' '-filter_complex' '[0:a]aformat=sample_fmts=fltp:channel_layouts=stereo,asplit=2[voice][side];[1:a]aformat=sample_fmts=fltp:channel_layouts=stereo[music];[music][side]sidechaincompress=threshold=0.015:ratio=12:attack=15:release=350:makeup=1[ducked];[voice][ducked]amix=inputs=2:normalize=0:duration=longest,apad=whole_dur=30,atrim=end=30,asplit=2[mix][premix];[premix]loudnorm=I=-14:TP=-2:LRA=20:print_format=json[measure]' '-map' '[mix]' '-c:a' 'pcm_f32le' "$W"'/premix.wav' '-map' '[measure]' '-f' 'null' '-'
  run normalise+aac 'ffmpeg' '-hide_banner' '-nostdin' '-y' '-i' "$W"'/premix.wav' '-af' 'loudnorm=I=-14:TP=-2:LRA=20:measured_I=-20:measured_TP=-5:measured_LRA=6:measured_thresh=-30:offset=0.2:linear=true,aresample=48000,apad=whole_dur=30,atrim=end=30' '-c:a' 'aac' '-profile:a' 'aac_low' '-b:a' '192k' '-ar' '48000' '-ac' '2' '-t' '30' '-movflags' '+faststart' "$W"'/soundtrack.m4a'
  run old-bed ffmpeg -hide_banner -nostdin -y -f lavfi -i "aevalsrc='$OLD_EXPR|$OLD_EXPR':s=48000:c=stereo:d=30" -af 'lowpass=f=5000,afade=t=in:st=0:d=1,afade=t=out:st=28:d=2,atrim=end=30' -ar 48000 -c:a pcm_s16le "$W"/music-old.wav
done
printf '%-16s %8s %8s\n' step wall_s cpu_s
for name in espeak-0 espeak-1 espeak-2 espeak-3 voice-track music-bed premix+measure normalise+aac old-bed; do
  printf '%-16s %8s %8s\n' "$name" "$(echo "${WALL[$name]}" | median)" "$(echo "${USER[$name]}" | median)"
done
