#!/usr/bin/env python3
"""Golden values of tests/test_arith_dgq.cpp: DGQ weight quantisation (two-phase grid search, weights' squared error) re-implemented independently in NumPy float64/float32. Prints the dequantised weights."""
import numpy as np
f32=np.float32
def group_scale(x):
    lo=min(0.0,float(np.min(x))); hi=max(0.0,float(np.max(x)))
    if hi==lo: return (f32(0),0)
    best=(None,None); be=np.inf
    for i in range(20):
        r=1.02-(i+1)*0.22/20
        s=f32((hi-lo)*r/15)
        zp=int(min(max(np.rint(-lo*r/float(s)),0),15))
        xc=np.clip(x.astype(np.float64),lo*r,hi*r)
        q=np.clip(np.rint(xc/float(s))+zp,0,15)
        e=float(s)*(q-zp)-x.astype(np.float64)
        err=0.0
        for v in e: err+=v*v
        if err<be: be=err; best=(s,zp)
    return best
def code(x,s1,s2,zp):
    im=127//s2; lo=max(0,zp-im); hi=min(15,zp+im)
    lim=127.0*float(s1)
    xc=min(max(float(x),-lim),lim)
    q=np.rint(xc/(s2*float(s1)))+zp
    return int(min(max(q,lo),hi))
def s2of(fs,s1): return int(min(max(np.rint(float(fs)/float(s1)),1),127))
def quant(W,g):
    out=np.zeros_like(W)
    for i,row in enumerate(W):
        ng=len(row)//g
        fine=[group_scale(row[k*g:(k+1)*g]) for k in range(ng)]
        amax=float(np.max(np.abs(row)))
        best=None; be=np.inf
        for r in range(80):
            s1=f32(amax*(1.02-(r+1)*0.82/80)/127)
            err=0.0
            for j,x in enumerate(row):
                fs,zp=fine[j//g]; s2=s2of(fs,s1)
                v=f32(s1*f32(s2*(code(x,s1,s2,zp)-zp)))
                err+=(float(v)-float(x))**2
            if err<be: be=err; best=s1
        for j,x in enumerate(row):
            fs,zp=fine[j//g]; s2=s2of(fs,best)
            out[i,j]=f32(best*f32(s2*(code(x,best,s2,zp)-zp)))
    return out
W=np.array([[0.31,-0.02,0.07,0.12,-1.9,0.4,0.05,-0.11],[0.0,0.001,0.002,0.5,-0.25,-0.3,0.125,0.06]],dtype=np.float32)
Q=quant(W,4)
for row in Q: print(", ".join("%.9gf"%v for v in row))
